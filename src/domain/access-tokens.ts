/**
 * DPoP proof algorithms (RFC 9449) accepted at the token endpoint, and so by resource servers: a token is bound to a
 * key whose proofs the authorization server accepted.
 */
export const DPOP_PROOF_ALGORITHMS = ['ES256', 'Ed25519', 'EdDSA'];
