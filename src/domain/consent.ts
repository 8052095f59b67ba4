import type { UserGrant } from './model.ts';

/** What one authorization request asks the user for: scopes per API, plus identity scopes (and offline_access). */
export interface ConsentRequest {
  resourceScopes: Record<string, string[]>;
  oidcScopes: string[];
}

export interface StoredConsent {
  /** True when stored consents cover everything requested, so that the dialog need not be shown again. */
  covers: boolean;
  /** The part of the request already consented to, to rebuild the protocol grant from. */
  granted: ConsentRequest;
}

const has = (grant: UserGrant | undefined, scope: string) => Boolean(grant?.scope.includes(scope));

/**
 * Compares a request with what the user consented to before (one record per API). Identity scopes and
 * `offline_access` are recorded with each API; with no API in the request they are recorded under `userinfoAudience`.
 */
export function storedConsentFor(request: ConsentRequest, consents: readonly UserGrant[], userinfoAudience: string): StoredConsent {
  const byAudience = new Map(consents.map((c) => [c.audience, c]));
  const audiences = Object.keys(request.resourceScopes);
  const oidcHolders = (audiences.length ? audiences : [userinfoAudience]).map((a) => byAudience.get(a));
  const granted: ConsentRequest = { resourceScopes: {}, oidcScopes: [] };
  let covers = oidcHolders.every(Boolean);
  for (const [audience, scopes] of Object.entries(request.resourceScopes)) {
    const consent = byAudience.get(audience);
    const ok = scopes.filter((s) => has(consent, s));
    if (ok.length) granted.resourceScopes[audience] = ok;
    if (ok.length < scopes.length) covers = false;
  }
  for (const scope of request.oidcScopes) {
    if (oidcHolders.every((consent) => has(consent, scope))) granted.oidcScopes.push(scope);
    else covers = false;
  }
  return { covers, granted };
}

/** The scope list to store for one API after the user accepts: what they had plus what they accepted now. */
export function consentedScopes(previous: UserGrant | undefined, accepted: readonly string[]): string[] {
  return [...new Set([...(previous?.scope ?? []), ...accepted])];
}
