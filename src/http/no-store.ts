/** RFC 6749 §5.1: a response carrying a token or a secret is never stored by a cache (HTTP/1.0 caches included). */
export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;
