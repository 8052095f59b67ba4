import type { KoaContextWithOIDC } from 'oidc-provider';

const escapeHtml = (value: unknown) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** oidc-provider's HTML error output: the error and its description, escaped, never a stack trace or a callback link. */
export async function renderErrorPage(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }, _error: Error): Promise<void> {
  ctx.type = 'html';
  ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Something went wrong</title></head>
<body><main><h1>Something went wrong</h1><p><code>${escapeHtml(out.error)}</code></p><p>${escapeHtml(out.error_description)}</p></main></body></html>`;
}
