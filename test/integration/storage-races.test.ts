import { describe, expect, it } from '@jest/globals';
import type { Application, User } from '../../src/domain/model.ts';
import { linkConsent } from '../../src/services/consent.ts';
import { linkHostUser } from '../../src/services/host-users.ts';
import { createLoginLockout, passwordSignIn } from '../../src/services/sign-in.ts';
import { recordUse } from '../../src/services/usage.ts';
import { createUser } from '../support/flow.ts';
import { insertApplication, ISSUER } from '../support/harness.ts';
import { managementTestbed } from '../support/management.ts';

/**
 * Holds the first `calls` calls of a store method after they have read, until released: two requests then interleave
 * exactly as a race between them would (each reads before the other writes).
 */
function pauseAfter<T extends object, K extends keyof T>(target: T, method: K, calls = 1) {
  const original = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
  let held = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => { release = resolve; });
  let reached!: () => void;
  const allReached = new Promise<void>((resolve) => { reached = resolve; });
  (target as Record<K, unknown>)[method] = async (...args: unknown[]) => {
    const result = await original(...args);
    if (held < calls) {
      held += 1;
      if (held === calls) reached();
      await released;
    }
    return result;
  };
  return { reached: allReached, release, restore: () => delete (target as Record<K, unknown>)[method] };
}

const testbed = managementTestbed();
const stores = () => testbed.test.gatehouse.stores;

const limits = { max_failures_per_account: 10, max_failures_per_address: 100, window_minutes: 15 };
const signInFirstParty = (app: Application, user: User, password: string) =>
  passwordSignIn(stores().durable, createLoginLockout(undefined, limits))({ app, email: user.email, password, address: '127.0.0.1' });
let counter = 0;
const newUser = async () => createUser(stores(), `racer${(counter += 1)}@example.com`, 'correct horse battery');

describe('concurrent writers never undo each other', () => {
  it.each([
    ['blocked it', { blocked: true }],
    ['gave it a new password', { password: 'a brand new passphrase' }],
  ])('a sign-in that read the user before an administrator %s fails, and the change stays', async (_what, change) => {
    const { app } = await insertApplication(stores());
    const user = await newUser();
    const pause = pauseAfter(stores().durable.users, 'find');
    const signingIn = signInFirstParty(app, user, 'correct horse battery');
    await pause.reached;
    pause.restore();
    await testbed.api('patch', `/users/${encodeURIComponent(user.user_id)}`, change).expect(200);
    pause.release();
    expect(await signingIn).toEqual({ ok: false, reason: 'wrong_credentials' });
    const stored = await stores().durable.users.get(user.user_id);
    expect(stored).toMatchObject({ blocked: 'blocked' in change, logins_count: 0 });
    expect(stored?.password_hash === user.password_hash).toBe(!('password' in change));
  });

  it('an administrator edit that read the user before a sign-in keeps the sign-in count', async () => {
    const { app } = await insertApplication(stores());
    const user = await newUser();
    const pause = pauseAfter(stores().durable.users, 'get');
    const editing = testbed.api('patch', `/users/${encodeURIComponent(user.user_id)}`, { name: 'Renamed' }).then((res) => res);
    await pause.reached;
    pause.restore();
    expect(await signInFirstParty(app, user, 'correct horse battery')).toMatchObject({ ok: true });
    pause.release();
    expect((await editing).status).toBe(200);
    expect(await stores().durable.users.get(user.user_id)).toMatchObject({ name: 'Renamed', logins_count: 1 });
  });

  it('two administrators editing different fields of one application both win', async () => {
    const { app } = await insertApplication(stores());
    const pause = pauseAfter(stores().durable.applications, 'get', 2);
    const first = testbed.api('patch', `/clients/${app.client_id}`, { name: 'Renamed' }).then((res) => res);
    const second = testbed.api('patch', `/clients/${app.client_id}`, { description: 'Described' }).then((res) => res);
    await pause.reached;
    pause.restore();
    pause.release();
    expect([(await first).status, (await second).status]).toEqual([200, 200]);
    expect(await stores().durable.applications.get(app.client_id)).toMatchObject({ name: 'Renamed', description: 'Described' });
  });

  it('recording an application\'s use keeps an administrator\'s concurrent edit', async () => {
    const { app } = await insertApplication(stores());
    const pause = pauseAfter(stores().durable.applications, 'get');
    const editing = testbed.api('patch', `/clients/${app.client_id}`, { name: 'Renamed' }).then((res) => res);
    await pause.reached;
    pause.restore();
    await recordUse(stores().durable, app);
    pause.release();
    expect((await editing).status).toBe(200);
    expect(await stores().durable.applications.get(app.client_id)).toMatchObject({ name: 'Renamed', last_used_at: expect.stringMatching(/^\d{4}-/) });
  });

  it('a host user signing in twice at once is one user, counted twice', async () => {
    const pause = pauseAfter(stores().durable.users, 'insertIfAbsent', 2);
    const host = { id: `h${Date.now()}`, email: 'Host@Example.com' };
    const both = Promise.all([linkHostUser(stores().durable, 'host-users', host), linkHostUser(stores().durable, 'host-users', host)]);
    await pause.reached;
    pause.restore();
    pause.release();
    await both;
    expect(await stores().durable.users.find({ email: 'host@example.com', connection: 'host-users' })).toEqual([
      expect.objectContaining({ user_id: `host-users|${host.id}`, logins_count: 2 }),
    ]);
  });

  it('two consents recorded at once for one application and API keep both scopes', async () => {
    const { app } = await insertApplication(stores());
    const user = await newUser();
    const subject = { userId: user.user_id, application: app };
    const audience = 'https://api.example.com/';
    const pause = pauseAfter(stores().durable.userGrants, 'find', 2);
    const both = Promise.all([
      linkConsent(stores(), ISSUER, subject, { resourceScopes: { [audience]: ['read:messages'] }, oidcScopes: [] }, 'grant-1'),
      linkConsent(stores(), ISSUER, subject, { resourceScopes: { [audience]: ['read:profile'] }, oidcScopes: [] }, 'grant-2'),
    ]);
    await pause.reached;
    pause.restore();
    pause.release();
    await both;
    const [consent] = await stores().durable.userGrants.find({ user_id: user.user_id, clientID: app.client_id, audience });
    expect(consent?.scope.toSorted()).toEqual(['read:messages', 'read:profile']);
    expect(consent?.oidc_grant_ids.toSorted()).toEqual(['grant-1', 'grant-2']);
  });
});
