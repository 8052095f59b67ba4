import { afterAll, beforeAll } from '@jest/globals';
import * as oauth from 'oauth4webapi';
import type { GatehouseConfig } from '../../src/config/schema.ts';
import type { ResourceServer } from '../../src/domain/model.ts';
import { startLiveGatehouse, type LiveGatehouse } from './browser.ts';
import { createApi } from './fixtures.ts';
import { createUser } from './flow.ts';

/** oauth4webapi refuses plain http unless told: the test servers listen on loopback over http. */
export const insecure = { [oauth.allowInsecureRequests]: true };

/** The authorization server at `origin`, as oauth4webapi discovers it. */
export async function discover(origin: string): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(origin);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
}

export const USER = { email: 'person@example.com', password: 'correct horse battery' };

/**
 * A Gatehouse on loopback for one test file, as oauth4webapi sees it (its discovered metadata), with an API and a user.
 * Started before the file's tests, closed after.
 */
export function oauthTestbed(config: Partial<GatehouseConfig> = {}) {
  const state = {} as { live: LiveGatehouse; as: oauth.AuthorizationServer; api: ResourceServer };
  beforeAll(async () => {
    state.live = await startLiveGatehouse(config);
    state.as = await discover(state.live.origin);
    state.api = await createApi(state.live.gatehouse.stores);
    await createUser(state.live.gatehouse.stores, USER.email, USER.password);
  });
  afterAll(async () => {
    await state.live.close();
  });
  return state;
}
