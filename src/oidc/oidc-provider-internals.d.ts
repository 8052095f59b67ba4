/** oidc-provider internals Gatehouse calls (pinned version; listed in docs/ARCHITECTURE.md). */
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  /** Builds the provider's keystore and published JWKS from a JWK Set; `this` is the Provider. */
  export default function initializeKeystore(this: object, jwks: { keys: object[] }): void;
}
