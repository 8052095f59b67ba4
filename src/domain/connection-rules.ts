import type { Connection } from './model.ts';
import { applyPatch } from './updates.ts';
import { checkConnectionChangeable } from './operators.ts';

export interface ConnectionCreate {
  name: string;
  strategy: Connection['strategy'];
  display_name?: string;
  is_domain_connection?: boolean;
  enabled_clients?: string[];
}

/** `name` and `strategy` are fixed once created: users and login requests refer to the connection by name. */
export type ConnectionPatch = Partial<Pick<Connection, 'display_name' | 'is_domain_connection' | 'enabled_clients'>>;

export function draftConnection(input: ConnectionCreate, id: string, now: string): Connection {
  return {
    id,
    name: input.name,
    strategy: input.strategy,
    ...(input.display_name !== undefined ? { display_name: input.display_name } : {}),
    // Third-party applications may log in only through domain connections: promoting one is an explicit decision.
    is_domain_connection: input.is_domain_connection ?? false,
    enabled_clients: input.enabled_clients ?? [],
    created_at: now,
    updated_at: now,
  };
}

/** A connection after a PATCH; the operators' connection is Gatehouse's and does not change. */
export function patchConnection(existing: Connection, patch: ConnectionPatch, now: string): Connection {
  checkConnectionChangeable(existing);
  return applyPatch(existing, patch, now);
}
