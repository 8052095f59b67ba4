import { invalidBody } from '../domain/errors.ts';
import type { Application, Trust } from '../domain/model.ts';
import { accessOfApplication } from '../domain/revocations.ts';
import { isSelfRegistered, mayGetTokens } from '../domain/trust.ts';
import type { Stores } from '../store/index.ts';
import { findApplication } from './applications.ts';
import { recordEvent } from './audit.ts';
import { editEntity, missing, now } from './entities.ts';
import { recordRevocations } from './revocations.ts';
import { revokeApplicationConsents } from './user-grants.ts';

/**
 * Moves a self-registered application on the trust ladder (approve, hold, block). Holding or blocking a trusted one ends
 * its access tokens at resource servers; blocking also revokes, at once, every consent users gave it with their codes
 * and refresh tokens.
 */
export async function changeTrust(stores: Stores, clientId: string, trust: Trust): Promise<Application> {
  const app = await findApplication(stores.durable, clientId);
  if (!isSelfRegistered(app)) {
    throw invalidBody(`Application ${clientId} was created by an administrator: the trust ladder applies to applications that registered themselves or that a metadata document describes`);
  }
  const changed = await editEntity(stores.durable.applications, clientId, missing('inexistent_client', `The client ${clientId} does not exist`),
    async (existing) => {
      if (existing.trust === trust) return existing;
      if (mayGetTokens(existing) && !mayGetTokens({ trust })) await recordRevocations(stores.durable, [accessOfApplication(existing, false)]);
      return { ...existing, trust, updated_at: now() };
    });
  if (app.trust !== trust) recordEvent('trust_level_changed', { client_id: clientId, client_name: app.name, details: { from: app.trust, to: trust } });
  if (trust === 'blocked') await revokeApplicationConsents(stores, clientId);
  return changed;
}
