import type { Application, Connection } from './model.ts';
import { isThirdParty } from './applications.ts';
import { isConsole, isOperatorConnection } from './operators.ts';

/**
 * Third-party applications may only use domain-level connections (all of them). First-party applications use the
 * connections enabled for them; a connection that lists no application is open to every first-party application.
 * The operators' connection and the console go together only: whatever the connection lists, no other application
 * signs an operator in, and the console signs in nobody else.
 */
export function connectionUsableBy(app: Pick<Application, 'client_id' | 'is_first_party'>, connection: Connection): boolean {
  if (isConsole(app) || isOperatorConnection(connection)) return isConsole(app) && isOperatorConnection(connection);
  if (isThirdParty(app)) return connection.is_domain_connection;
  return connection.enabled_clients.length === 0 || connection.enabled_clients.includes(app.client_id);
}
