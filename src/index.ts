/**
 * Gatehouse as a library: mount the identity provider in an Express 5 app, and protect APIs with the tokens it issues.
 * See README, "Use as middleware" and "Protect your API".
 */
export { createGatehouse, type Gatehouse, type GatehouseOptions } from './gatehouse.ts';
export type { GatehouseConfig } from './config/schema.ts';
export type { HostAuthentication } from './http/pages/interactions.ts';
export type { HostUser } from './services/host-users.ts';
export {
  protectedResourceMetadata, requireAccessToken, resourceMetadataUrlFor,
  type ProtectedResourceMetadataOptions, type RequireAccessTokenOptions, type VerifiedAccessToken,
} from './http/resource-server.ts';
export {
  watchRevocations, type RemoteRevocationOptions, type RevocationWatch, type RevocationWatchOptions,
} from './http/revocation-watch.ts';
export { openStores, type Stores, type StoreSettings } from './store/index.ts';
