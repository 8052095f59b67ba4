import type {
  Application, ClientGrant, Connection, KeyMaterial, NetworkAcl, ResourceServer, User, UserGrant,
} from '../domain/model.ts';
import type { SettingsDocument } from './ports.ts';

/**
 * What every backend must know about a collection: its key field, the field sets that must be unique (a set is
 * only checked when all of its fields are present), and the fields queries filter on (to be indexed).
 */
export interface CollectionSpec<T> {
  name: string;
  key: keyof T & string;
  unique: readonly (readonly (keyof T & string)[])[];
  indexed: readonly (keyof T & string)[];
}

const spec = <T>(s: CollectionSpec<T>) => s;

export const COLLECTIONS = {
  applications: spec<Application>({ name: 'applications', key: 'client_id', unique: [], indexed: ['is_first_party', 'app_type', 'registration_type'] }),
  resourceServers: spec<ResourceServer>({ name: 'resource_servers', key: 'id', unique: [['identifier']], indexed: ['identifier'] }),
  clientGrants: spec<ClientGrant>({
    name: 'client_grants',
    key: 'id',
    unique: [['client_id', 'audience', 'subject_type'], ['default_for', 'audience', 'subject_type']],
    indexed: ['client_id', 'default_for', 'audience'],
  }),
  connections: spec<Connection>({ name: 'connections', key: 'id', unique: [['name']], indexed: ['name', 'is_domain_connection'] }),
  users: spec<User>({ name: 'users', key: 'user_id', unique: [['connection', 'email']], indexed: ['email'] }),
  userGrants: spec<UserGrant>({ name: 'user_grants', key: 'id', unique: [['user_id', 'clientID', 'audience']], indexed: ['user_id', 'clientID', 'audience'] }),
  networkAcls: spec<NetworkAcl>({ name: 'network_acls', key: 'id', unique: [['priority']], indexed: [] }),
  settings: spec<SettingsDocument>({ name: 'settings', key: 'id', unique: [], indexed: [] }),
  keys: spec<KeyMaterial>({ name: 'keys', key: 'id', unique: [], indexed: [] }),
};

/** oidc-provider models kept in the durable store; every other model is short-lived. */
export const DURABLE_OIDC_MODELS = new Set(['Grant']);

/** oidc-provider models that carry a `grantId` and must be found by it on revocation. */
export const GRANTABLE_OIDC_MODELS = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);
