import type { ResourceServer } from './model.ts';
import { issuerUrl } from './issuer.ts';

/** One scope per Management API operation, named as Auth0 names them. */
export const MANAGEMENT_API_SCOPES = [
  'read:clients', 'create:clients', 'update:clients', 'delete:clients',
  'read:client_keys', 'update:client_keys',
  'read:resource_servers', 'create:resource_servers', 'update:resource_servers', 'delete:resource_servers',
  'read:client_grants', 'create:client_grants', 'update:client_grants', 'delete:client_grants',
  'read:connections', 'create:connections', 'update:connections', 'delete:connections',
  'read:users', 'create:users', 'update:users', 'delete:users', 'create:user_tickets',
  'read:grants', 'delete:grants',
  'read:tenant_settings', 'update:tenant_settings',
  'read:network_acls', 'create:network_acls', 'update:network_acls', 'delete:network_acls',
  'read:logs',
  'read:log_streams', 'create:log_streams', 'update:log_streams', 'delete:log_streams',
  'read:operators', 'create:operators', 'update:operators', 'delete:operators',
] as const;

export type ManagementScope = (typeof MANAGEMENT_API_SCOPES)[number];

export const managementAudience = (issuer: string) => issuerUrl(issuer, 'api/v2/');

export const SYSTEM_API_ID = 'gatehouse-management-api';

export function systemResourceServer(issuer: string, now: string): ResourceServer {
  return {
    id: SYSTEM_API_ID,
    identifier: managementAudience(issuer),
    name: 'Gatehouse Management API',
    is_system: true,
    scopes: MANAGEMENT_API_SCOPES.map((value) => {
      const [action, resource] = value.split(':');
      return { value, description: `${action} ${resource?.replaceAll('_', ' ')}`.replace(/^./, (c) => c.toUpperCase()) };
    }),
    signing_alg: 'RS256',
    token_lifetime: 86400,
    token_lifetime_for_web: 7200,
    allow_offline_access: false,
    skip_consent_for_verifiable_first_party_clients: false,
    // User-delegated access: the console's grant, bounded by each operator's role (src/domain/access.ts).
    subject_type_authorization: { user: { policy: 'require_client_grant' }, client: { policy: 'require_client_grant' } },
    created_at: now,
    updated_at: now,
  };
}
