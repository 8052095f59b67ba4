import type { DurableEntities } from './ports.ts';

/**
 * What every backend must know about a collection: its key field, the field sets that must be unique (a set is only
 * checked when all of its fields are present), the fields queries filter on (to be indexed), the array fields (a filter
 * on them means "contains"), and the fields sealed at rest with the key-encryption key.
 */
export interface CollectionSpec<T> {
  name: string;
  key: keyof T & string;
  unique: readonly (readonly (keyof T & string)[])[];
  indexed: readonly (keyof T & string)[];
  arrays: readonly (keyof T & string)[];
  sealed: readonly (keyof T & string)[];
}

type Specs = { [K in keyof DurableEntities]: CollectionSpec<DurableEntities[K]> };

/** Every durable collection. The embedded store's schema migrations (src/store/embedded/migrations.ts) follow it. */
export const COLLECTIONS: Specs = {
  applications: {
    name: 'applications',
    key: 'client_id',
    unique: [['external_client_id'], ['registration_fingerprint']],
    indexed: ['is_first_party', 'app_type', 'registration_type', 'trust'],
    arrays: [],
    sealed: [],
  },
  resourceServers: { name: 'resource_servers', key: 'id', unique: [['identifier']], indexed: ['identifier'], arrays: [], sealed: ['signing_secret'] },
  clientGrants: {
    name: 'client_grants',
    key: 'id',
    unique: [['client_id', 'audience', 'subject_type'], ['default_for', 'audience', 'subject_type']],
    indexed: ['client_id', 'default_for', 'audience'],
    arrays: [],
    sealed: [],
  },
  connections: { name: 'connections', key: 'id', unique: [['name']], indexed: ['name', 'is_domain_connection'], arrays: ['enabled_clients'], sealed: ['secret_options'] },
  users: { name: 'users', key: 'user_id', unique: [['connection', 'email']], indexed: ['email', 'connection'], arrays: [], sealed: [] },
  userGrants: {
    name: 'user_grants', key: 'id', unique: [['user_id', 'clientID', 'audience']], indexed: ['user_id', 'clientID', 'audience'], arrays: [], sealed: [],
  },
  networkAcls: { name: 'network_acls', key: 'id', unique: [['priority']], indexed: [], arrays: [], sealed: [] },
  settings: { name: 'settings', key: 'id', unique: [], indexed: [], arrays: [], sealed: [] },
  keys: { name: 'keys', key: 'id', unique: [], indexed: [], arrays: [], sealed: ['signing', 'cookies'] },
  secrets: { name: 'secrets', key: 'id', unique: [], indexed: [], arrays: [], sealed: ['value'] },
  // The tenant log: time-ordered keys (retention by deleteBefore); the fields `q` searches are indexed.
  logs: { name: 'logs', key: 'log_id', unique: [], indexed: ['type', 'client_id', 'user_id', 'user_name', 'connection', 'ip', 'audience'], arrays: [], sealed: [] },
  logStreams: { name: 'log_streams', key: 'id', unique: [], indexed: ['status'], arrays: [], sealed: ['http_authorization', 'http_custom_headers'] },
  connectionActivity: { name: 'connection_activity', key: 'id', unique: [], indexed: ['user_id', 'client_id'], arrays: [], sealed: [] },
  operatorInvitations: { name: 'operator_invitations', key: 'id', unique: [['token_hash']], indexed: ['token_hash'], arrays: [], sealed: [] },
  /** Read in key order only (time-ordered ids), and emptied by `deleteBefore`. */
  revocations: { name: 'revocations', key: 'id', unique: [], indexed: [], arrays: [], sealed: [] },
};

export const COLLECTION_NAMES = Object.keys(COLLECTIONS) as (keyof DurableEntities)[];

/** oidc-provider models kept in the durable store; every other model is short-lived. */
export const DURABLE_OIDC_MODELS = new Set(['Grant']);

/** oidc-provider models that carry a `grantId` and must be found by it on revocation. */
export const GRANTABLE_OIDC_MODELS = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);
