import { invalidBody } from '../domain/errors.ts';
import type { Application, Trust } from '../domain/model.ts';
import { isSelfRegistered } from '../domain/trust.ts';
import type { Stores } from '../store/index.ts';
import { findApplication } from './applications.ts';
import { recordEvent } from './audit.ts';
import { editEntity, missing, now } from './entities.ts';
import { revokeApplicationConsents } from './user-grants.ts';

/**
 * Moves a self-registered application on the trust ladder (approve, hold, block). Blocking also revokes, at once, every
 * consent users gave it with their codes and refresh tokens.
 */
export async function changeTrust(stores: Stores, clientId: string, trust: Trust): Promise<Application> {
  const app = await findApplication(stores.durable, clientId);
  if (!isSelfRegistered(app)) {
    throw invalidBody(`Application ${clientId} was created by an administrator: the trust ladder applies to applications that registered themselves or that a metadata document describes`);
  }
  const changed = await editEntity(stores.durable.applications, clientId, missing('inexistent_client', `The client ${clientId} does not exist`),
    (existing) => (existing.trust === trust ? existing : { ...existing, trust, updated_at: now() }));
  if (app.trust !== trust) recordEvent('trust_level_changed', { client_id: clientId, client_name: app.name, details: { from: app.trust, to: trust } });
  if (trust === 'blocked') await revokeApplicationConsents(stores, clientId);
  return changed;
}
