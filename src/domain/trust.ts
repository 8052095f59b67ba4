import { invalidBody } from './errors.ts';
import type { Application, SelfRegisteredClientPolicy, Trust, TrustRule } from './model.ts';

/**
 * The trust ladder of applications that registered themselves (dynamic client registration) or that a metadata document
 * describes (CIMD): `trusted` ones get tokens, `pending` ones wait for an administrator, `blocked` ones are refused.
 */

export type RegistrationPath = keyof SelfRegisteredClientPolicy['initial_trust'];

export const DEFAULT_SELF_REGISTERED_CLIENTS: SelfRegisteredClientPolicy = {
  initial_trust: { dynamic_registration: 'trusted', client_id_metadata_document: 'trusted' },
  trust_rules: [],
  over_budget: 'refuse',
};

/** The applications the ladder applies to: those an administrator did not create from settings of their own. */
export const isSelfRegistered = (app: Pick<Application, 'registration_type' | 'external_metadata_type'>) =>
  app.registration_type === 'dynamic' || app.external_metadata_type === 'cimd';

/** Applications without a trust state (created by an administrator) are trusted. */
export const trustOf = (app: Pick<Application, 'trust'>): Trust => app.trust ?? 'trusted';

export const mayGetTokens = (app: Pick<Application, 'trust'>) => trustOf(app) === 'trusted';

/** What is known of a client when it first registers or is first seen. */
export interface NewClient {
  path: RegistrationPath;
  /** Its client id URL (CIMD). */
  cimdUrl?: string;
  redirectUris: readonly string[];
}

const redirectHost = (uri: string) => URL.parse(uri)?.hostname.toLowerCase();

function matchingRules(client: NewClient, rules: readonly TrustRule[]) {
  const hosts = client.redirectUris.map(redirectHost);
  return {
    exact: rules.find((rule) => rule.cimd_url !== undefined && rule.cimd_url === client.cimdUrl),
    blocked: rules.some((rule) => rule.trust === 'blocked' && (
      (rule.cimd_url_prefix !== undefined && client.cimdUrl?.startsWith(rule.cimd_url_prefix))
      || (rule.redirect_host !== undefined && hosts.includes(rule.redirect_host.toLowerCase())))),
    // Trusted by host only when every redirect URI goes to a trusted host: one foreign callback is enough to say no.
    trusted: rules.some((rule) => rule.trust === 'trusted' && rule.cimd_url_prefix !== undefined && client.cimdUrl?.startsWith(rule.cimd_url_prefix))
      || (hosts.length > 0 && hosts.every((host) => rules.some((rule) => rule.trust === 'trusted' && rule.redirect_host?.toLowerCase() === host))),
  };
}

/**
 * A new self-registered client's trust: a rule naming its exact CIMD URL decides; otherwise any blocking rule (URL
 * prefix, or the host of any redirect URI) blocks; otherwise a trusting rule (URL prefix, or the hosts of all its
 * redirect URIs) trusts; otherwise it is `pending` when it came over its registration budget and the tenant admits
 * such clients as pending, else what the tenant chose for its path.
 */
export function initialTrust(client: NewClient, policy: SelfRegisteredClientPolicy, overBudget: boolean): Trust {
  const rules = matchingRules(client, policy.trust_rules);
  if (rules.exact) return rules.exact.trust;
  if (rules.blocked) return 'blocked';
  if (rules.trusted) return 'trusted';
  if (overBudget) return 'pending';
  return policy.initial_trust[client.path];
}

/** A tenant's rules must each match on exactly one thing: an exact CIMD URL, a URL prefix, or a redirect host. */
export function checkTrustRules(rules: readonly TrustRule[]): void {
  rules.forEach((rule, i) => {
    const matchers = (['cimd_url', 'cimd_url_prefix', 'redirect_host'] as const).filter((m) => rule[m] !== undefined);
    if (matchers.length !== 1) throw invalidBody(`self_registered_clients.trust_rules[${i}] must have exactly one of cimd_url, cimd_url_prefix and redirect_host`);
    const url = rule.cimd_url ?? rule.cimd_url_prefix;
    if (url !== undefined && !url.startsWith('https://')) throw invalidBody(`self_registered_clients.trust_rules[${i}] ${matchers[0]} must start with https://`);
  });
}

/** Why an application may not get tokens now, in words for its developer (and the page a person sees), or undefined. */
export function trustRefusal(app: Pick<Application, 'trust' | 'name'>): { trust: Exclude<Trust, 'trusted'>; description: string } | undefined {
  const trust = trustOf(app);
  if (trust === 'pending') return { trust, description: `the application "${app.name}" awaits approval by the administrator of this service` };
  if (trust === 'blocked') return { trust, description: `the application "${app.name}" has been blocked by the administrator of this service` };
  return undefined;
}
