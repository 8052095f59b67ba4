import type { Account } from 'oidc-provider';
import type { User } from '../domain/model.ts';
import type { Stores } from '../store/index.ts';

/** The claims Gatehouse knows about a user; oidc-provider filters them by the granted scopes. */
export const userClaims = (user: User) => ({
  sub: user.user_id,
  email: user.email,
  email_verified: user.email_verified,
  ...(user.name ? { name: user.name } : {}),
  updated_at: Math.floor(Date.parse(user.updated_at) / 1000),
});

/** oidc-provider's `findAccount`: blocked or deleted users are no account at all, which ends their sessions' use. */
export function accountFinder(stores: Stores) {
  return async (_ctx: unknown, sub: string): Promise<Account | undefined> => {
    const user = await stores.durable.users.get(sub);
    if (!user || user.blocked) return undefined;
    return { accountId: user.user_id, claims: async () => userClaims(user) };
  };
}
