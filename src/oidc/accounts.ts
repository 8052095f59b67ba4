import type { Account } from 'oidc-provider';
import type { User } from '../domain/model.ts';
import { predatesPasswordReset } from '../domain/user-rules.ts';
import type { Stores } from '../store/index.ts';

/** The claims Gatehouse knows about a user; oidc-provider filters them by the granted scopes. */
export const userClaims = (user: User) => ({
  sub: user.user_id,
  email: user.email,
  email_verified: user.email_verified,
  ...(user.name ? { name: user.name } : {}),
  updated_at: Math.floor(Date.parse(user.updated_at) / 1000),
});

/**
 * oidc-provider's `findAccount`: blocked or deleted users are no account at all, which ends their sessions' use; nor is
 * a user for a token (refresh token, code, access token at userinfo) whose chain began before their last password
 * reset (`iiat`: the first token of a rotated chain).
 */
export function accountFinder(stores: Stores) {
  return async (_ctx: unknown, sub: string, token?: { iat?: number; iiat?: number }): Promise<Account | undefined> => {
    const user = await stores.durable.users.get(sub);
    if (!user || user.blocked) return undefined;
    if (token && predatesPasswordReset(user, token.iiat ?? token.iat)) return undefined;
    return { accountId: user.user_id, claims: async () => userClaims(user) };
  };
}
