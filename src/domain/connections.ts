import type { Application, Connection } from './model.ts';
import { isThirdParty } from './applications.ts';

/**
 * Third-party applications may only use domain-level connections (all of them). First-party applications use the
 * connections enabled for them; a connection that lists no application is open to every first-party application.
 */
export function connectionUsableBy(app: Pick<Application, 'client_id' | 'is_first_party'>, connection: Connection): boolean {
  if (isThirdParty(app)) return connection.is_domain_connection;
  return connection.enabled_clients.length === 0 || connection.enabled_clients.includes(app.client_id);
}
