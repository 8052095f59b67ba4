import { isThirdParty, protocolClientId } from './applications.ts';
import type { Application, SubjectType, User } from './model.ts';
import { mayGetTokens } from './trust.ts';

/**
 * DPoP proof algorithms (RFC 9449) accepted at the token endpoint, and so by resource servers: a token is bound to a
 * key whose proofs the authorization server accepted.
 */
export const DPOP_PROOF_ALGORITHMS = ['ES256', 'Ed25519', 'EdDSA'] as const;

/** The claim naming the protocol grant a user's JWT access token was issued under (as in OAuth Grant Management). */
export const GRANT_ID_CLAIM = 'grant_id';

/** Whom an access token speaks for: the application itself (client credentials: its `sub` is its `client_id`) or a user. */
export const tokenSubjectType = (sub: unknown, clientId: unknown): SubjectType => (sub === clientId ? 'client' : 'user');

/**
 * A first-party application's access token for an API also serves /userinfo when its grant holds `openid` (Auth0 gives
 * such tokens the userinfo audience): one token for the API and the user's profile. Never for third-party applications.
 */
export const apiTokenServesUserinfo = (app: Pick<Application, 'is_first_party'>, grantedOidcScopes: readonly string[]) =>
  !isThirdParty(app) && grantedOidcScopes.includes('openid');

/** What the store says about the grant an access token was issued under, read by `src/services/token-grants.ts`. */
export interface TokenGrantFacts {
  application: Pick<Application, 'client_id' | 'external_client_id' | 'trust'> | undefined;
  /** Whether the application may still get tokens for the token's API (the API exists and `decideApiAccess` allows it). */
  apiAccessAllowed: boolean;
  /** For a user's token: the user and the protocol grant named by the token (undefined when gone). */
  user?: Pick<User, 'user_id' | 'blocked'> | undefined;
  grant?: { clientId?: unknown; accountId?: unknown; exp?: unknown } | undefined;
}

/**
 * Whether an access token's grant still stands: its application exists (tokens name it by its protocol client id, its
 * CIMD URL when it has one), is not held back by the trust ladder, and may still reach the API; for a user's
 * token, the user exists and is not blocked and the protocol grant is still there (revoking consent, deleting the
 * application, the user or the API destroys it), unexpired and issued to the same application and user.
 */
export function tokenGrantStands(token: { clientId: string; userId?: string | undefined }, facts: TokenGrantFacts, now: number): boolean {
  const { application } = facts;
  if (!application || protocolClientId(application) !== token.clientId || !mayGetTokens(application) || !facts.apiAccessAllowed) return false;
  if (token.userId === undefined) return true;
  const { user, grant } = facts;
  if (!user || user.blocked || !grant) return false;
  if (typeof grant.exp === 'number' && grant.exp <= now) return false;
  return grant.clientId === token.clientId && grant.accountId === token.userId;
}
