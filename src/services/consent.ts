import type Provider from 'oidc-provider';
import { protocolClientId } from '../domain/applications.ts';
import { consentedScopes, storedConsentFor, type ConsentRequest, type StoredConsent } from '../domain/consent.ts';
import { newHexId } from '../domain/ids.ts';
import type { Application, UserGrant } from '../domain/model.ts';
import type { Stores } from '../store/index.ts';
import { issuerUrl } from '../domain/issuer.ts';
import { recordEvent } from './audit.ts';

/** The audience under which consent to identity scopes alone is recorded (Auth0 uses the tenant's userinfo URL). */
export const userinfoAudience = (issuer: string) => issuerUrl(issuer, 'userinfo');

/**
 * Who consents to which application. Consents record the application by its own id; protocol grants and tokens by the
 * id it uses in requests (its CIMD URL, when it has one).
 */
export interface ConsentSubject {
  userId: string;
  application: Pick<Application, 'client_id' | 'external_client_id'>;
}

/** Earlier consent covering (part of) the request, and the newest protocol grant it already covers, to reuse. */
export async function storedConsent(stores: Stores, issuer: string, subject: ConsentSubject, request: ConsentRequest): Promise<StoredConsent & { latestGrantId?: string }> {
  const consents = await stores.durable.userGrants.find({ user_id: subject.userId, clientID: subject.application.client_id });
  const newest = consents.toSorted((a, b) => b.updated_at.localeCompare(a.updated_at))[0];
  const latestGrantId = newest?.oidc_grant_ids.at(-1);
  return { ...storedConsentFor(request, consents, userinfoAudience(issuer)), ...(latestGrantId ? { latestGrantId } : {}) };
}

type ProtocolGrant = InstanceType<Provider['Grant']>;

const holds = (grant: ProtocolGrant, contents: ConsentRequest) => {
  const oidc = new Set(grant.getOIDCScope().split(' '));
  return contents.oidcScopes.every((scope) => oidc.has(scope))
    && Object.entries(contents.resourceScopes).every(([indicator, scopes]) => {
      const held = new Set(grant.getResourceScope(indicator).split(' '));
      return scopes.every((scope) => held.has(scope));
    });
};

/** Whether the protocol grant (if any) already holds all of these scopes for this user and application. */
export async function protocolGrantHolds(provider: Provider, subject: ConsentSubject, contents: ConsentRequest, grantId: string | undefined): Promise<boolean> {
  const existing = grantId ? await provider.Grant.find(grantId) : undefined;
  return existing?.accountId === subject.userId && existing.clientId === protocolClientId(subject.application) && holds(existing, contents);
}

/**
 * A protocol grant (oidc-provider) holding these scopes; its id is what tokens are issued under. An existing grant
 * that already holds them is reused as it is: no write on every authorization of a returning user.
 */
export async function saveProtocolGrant(provider: Provider, subject: ConsentSubject, contents: ConsentRequest, grantId?: string): Promise<string> {
  const clientId = protocolClientId(subject.application);
  const existing = grantId ? await provider.Grant.find(grantId) : undefined;
  const reusable = existing?.accountId === subject.userId && existing.clientId === clientId;
  if (reusable && existing.jti && holds(existing, contents)) return existing.jti;
  const grant = reusable ? existing : new provider.Grant({ accountId: subject.userId, clientId });
  if (contents.oidcScopes.length) grant.addOIDCScope(contents.oidcScopes.join(' '));
  for (const [indicator, scopes] of Object.entries(contents.resourceScopes)) {
    if (scopes.length) grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

/**
 * Links a protocol grant to the user's consent records (one per API; created or extended), so that revoking the
 * consent revokes the tokens. `accepted` is what the user agreed to now; nothing when the grant was rebuilt from
 * earlier consent.
 */
export async function linkConsent(stores: Stores, issuer: string, subject: ConsentSubject, accepted: ConsentRequest, grantId: string): Promise<void> {
  const { userGrants } = stores.durable;
  const audiences = Object.keys(accepted.resourceScopes);
  const now = new Date().toISOString();
  for (const audience of audiences.length ? audiences : [userinfoAudience(issuer)]) {
    const which = { user_id: subject.userId, clientID: subject.application.client_id, audience };
    const scopes = [...(accepted.resourceScopes[audience] ?? []), ...accepted.oidcScopes];
    let [previous] = await userGrants.find(which, { limit: 1 });
    if (!previous) {
      const record: UserGrant = { id: newHexId(), ...which, scope: consentedScopes(undefined, scopes), oidc_grant_ids: [grantId], created_at: now, updated_at: now };
      if (await userGrants.insertIfAbsent(record)) continue;
      [previous] = await userGrants.find(which, { limit: 1 }); // recorded by a concurrent request meanwhile: extend it
      if (!previous) continue;
    }
    if (previous.oidc_grant_ids.includes(grantId) && consentedScopes(previous, scopes).length === previous.scope.length) continue; // nothing new to record
    // Merged by the store, so that two consents recorded at once both count.
    await userGrants.update(previous.id, { addToSet: { scope: scopes, oidc_grant_ids: [grantId] }, set: { updated_at: now } });
  }
}

/** A consent given or denied, in the tenant log: one event per API (so that `audience:` finds it), or one for identity alone. */
export function recordConsent(type: 'consent_given' | 'consent_denied', issuer: string, subject: ConsentSubject, request: ConsentRequest): void {
  const apis = Object.entries(request.resourceScopes);
  for (const [audience, scopes] of apis.length ? apis : [[userinfoAudience(issuer), []] as const]) {
    recordEvent(type, { client_id: subject.application.client_id, user_id: subject.userId, audience, scope: [...scopes, ...request.oidcScopes].join(' ') });
  }
}
