import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { isThirdParty } from '../domain/applications.ts';
import { authorizationRequest } from '../domain/authorization.ts';
import { connectionUsableBy } from '../domain/connections.ts';
import { identitiesOf } from '../domain/upstream.ts';
import { predatesPasswordReset } from '../domain/user-rules.ts';
import { linkConsent, protocolGrantHolds, saveProtocolGrant, storedConsent } from '../services/consent.ts';
import type { Stores } from '../store/index.ts';
import { allowedApiScopes } from './authorization-hooks.ts';
import { applicationOf, unreachableScopesOf } from './context.ts';

const { Check, base } = interactionPolicy;

/**
 * A request that can gain nothing: the user already granted everything in it this application may get, and the rest
 * it may never get (a step-up for a scope outside its grant would otherwise end in the same token, again and again).
 */
const cannotGain = (unreachable: readonly string[]) => new errors.InvalidScope(
  `${unreachable.join(' ')} cannot be granted to this application, and it already holds the rest of what it asked for: ask the administrator of this service for access, or stop asking for ${unreachable.length > 1 ? 'them' : 'it'}`,
  unreachable.join(' '),
);

/** Requests whose consent is already on record (so the dialog is skipped), remembered per request. */
const coveredByStoredConsent = new WeakSet<object>();

/**
 * The protocol grant for an authorization. Third-party: rebuilt from the user's stored consent (never from the
 * session), so that a revoked consent takes effect at once; the consent prompt asks for whatever is missing.
 * First-party: consent is implied, the grant holds what is requested.
 */
export function loadExistingGrant(stores: Stores, issuer: string) {
  return async (ctx: KoaContextWithOIDC) => {
    const { provider, session, client } = ctx.oidc;
    const consentedNow = ctx.oidc.result?.consent?.grantId;
    if (consentedNow) return provider.Grant.find(consentedNow);
    const accountId = session?.accountId;
    if (!accountId || !client) return undefined;
    const app = applicationOf(ctx);
    const subject = { userId: accountId, application: app };
    const request = authorizationRequest(app, [...ctx.oidc.requestParamScopes], allowedApiScopes(ctx));
    const unreachable = unreachableScopesOf(ctx);
    if (!isThirdParty(app)) {
      if (unreachable.length && await protocolGrantHolds(provider, subject, request, session.grantIdFor(client.clientId))) throw cannotGain(unreachable);
      const grantId = await saveProtocolGrant(provider, subject, request, session.grantIdFor(client.clientId));
      return provider.Grant.find(grantId);
    }
    const stored = await storedConsent(stores, issuer, subject, request);
    if (unreachable.length && stored.covers) throw cannotGain(unreachable);
    if (stored.covers && !ctx.oidc.prompts.has('consent')) coveredByStoredConsent.add(ctx);
    if (!Object.keys(stored.granted.resourceScopes).length && !stored.granted.oidcScopes.length) return undefined;
    const grantId = await saveProtocolGrant(provider, subject, stored.granted, stored.latestGrantId);
    await linkConsent(stores, issuer, subject, stored.granted, grantId);
    return provider.Grant.find(grantId);
  };
}

/**
 * oidc-provider's login and consent prompts, plus rules of ours: a session established through a connection the
 * application may not use, or before the password was last reset, does not count (login again), and third-party
 * applications always get the consent dialog unless the user's stored consent already covers exactly this request.
 */
export function interactionPolicyFor(stores: Stores) {
  const policy = base();
  policy.get('login')!.checks.add(new Check('connection_not_allowed', 'the session was established through a connection this application may not use', async (ctx: KoaContextWithOIDC) => {
    const accountId = ctx.oidc.session?.accountId;
    if (!accountId) return Check.NO_NEED_TO_PROMPT;
    const user = await stores.durable.users.get(accountId);
    // An account linked across connections (README, "Linking accounts by verified email") counts through any of them.
    const names = user ? identitiesOf(user).map((identity) => identity.connection) : [];
    const connections = (await Promise.all(names.map((name) => stores.durable.connections.find({ name }, { limit: 1 })))).flat();
    const app = applicationOf(ctx);
    return connections.some((connection) => connectionUsableBy(app, connection)) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
  }));
  policy.get('login')!.checks.add(new Check('password_reset', 'the password was reset since this session began', async (ctx: KoaContextWithOIDC) => {
    const { session } = ctx.oidc;
    const user = session?.accountId ? await stores.durable.users.get(session.accountId) : undefined;
    return user && predatesPasswordReset(user, session?.loginTs) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
  }));
  policy.get('consent')!.checks.add(new Check('third_party_consent', 'third-party applications need the user\'s consent', async (ctx: KoaContextWithOIDC) => {
    if (ctx.oidc.result?.consent || coveredByStoredConsent.has(ctx)) return Check.NO_NEED_TO_PROMPT;
    return isThirdParty(applicationOf(ctx)) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
  }));
  return policy;
}

