import { GRANTABLE_OIDC_MODELS } from '../store/collections.ts';
import type { UserGrant } from '../domain/model.ts';
import type { Stores } from '../store/index.ts';
import { recordEvent } from './audit.ts';
import { recordRevocations } from './revocations.ts';

/**
 * Revokes oidc-provider grants: their JWT access tokens at resource servers (which are never stored), then every
 * stored token, code and refresh token issued under them, then the grants.
 */
export async function revokeOidcGrants(stores: Stores, grantIds: Iterable<string>): Promise<void> {
  const revoked = [...grantIds];
  await recordRevocations(stores.durable, revoked.map((grantId) => ({ kind: 'grant', grantId })));
  for (const grantId of revoked) {
    for (const model of GRANTABLE_OIDC_MODELS) await stores.oidcAdapter(model).revokeByGrantId(grantId);
    await stores.oidcAdapter('Grant').destroy(grantId);
  }
}

/** Withdraws a user's consent: the tokens it covers go at once, then the consent record. */
export async function revokeUserGrant(stores: Stores, grant: UserGrant): Promise<void> {
  await revokeOidcGrants(stores, grant.oidc_grant_ids);
  await stores.durable.userGrants.delete(grant.id);
  recordEvent('consent_revoked', { user_id: grant.user_id, client_id: grant.clientID, audience: grant.audience, scope: grant.scope.join(' ') });
}
