import { describe, expect, it } from '@jest/globals';
import { apiTokenServesUserinfo, tokenGrantStands, type TokenGrantFacts } from '../../src/domain/access-tokens.ts';

const NOW = 1_800_000_000;
const userToken = { clientId: 'app1', userId: 'auth0|u1' };
const standing: TokenGrantFacts = {
  application: { client_id: 'app1' }, apiAccessAllowed: true,
  user: { user_id: 'auth0|u1', blocked: false }, grant: { clientId: 'app1', accountId: 'auth0|u1', exp: NOW + 60 },
};

describe('tokenGrantStands', () => {
  it('holds while the application, its access to the API, the user and the protocol grant all stand', () => {
    expect(tokenGrantStands(userToken, standing, NOW)).toBe(true);
    expect(tokenGrantStands(userToken, { ...standing, grant: { clientId: 'app1', accountId: 'auth0|u1' } }, NOW)).toBe(true); // grants without exp
  });

  it('falls with any of them', () => {
    const fallen: Partial<TokenGrantFacts>[] = [
      { application: undefined }, { application: { client_id: 'other' } }, { apiAccessAllowed: false },
      { user: undefined }, { user: { user_id: 'auth0|u1', blocked: true } },
      { grant: undefined }, { grant: { clientId: 'app1', accountId: 'auth0|u1', exp: NOW } },
      { grant: { clientId: 'app2', accountId: 'auth0|u1' } }, { grant: { clientId: 'app1', accountId: 'auth0|u2' } },
    ];
    for (const change of fallen) expect([change, tokenGrantStands(userToken, { ...standing, ...change }, NOW)]).toEqual([change, false]);
  });

  it('for client credentials needs only the application and its access to the API', () => {
    const facts = { application: { client_id: 'app1' }, apiAccessAllowed: true };
    expect(tokenGrantStands({ clientId: 'app1' }, facts, NOW)).toBe(true);
    expect(tokenGrantStands({ clientId: 'app1' }, { ...facts, apiAccessAllowed: false }, NOW)).toBe(false);
  });
});

describe('apiTokenServesUserinfo', () => {
  it('only for first-party applications whose grant holds openid', () => {
    expect(apiTokenServesUserinfo({ is_first_party: true }, ['openid', 'email'])).toBe(true);
    expect(apiTokenServesUserinfo({ is_first_party: true }, ['email'])).toBe(false);
    expect(apiTokenServesUserinfo({ is_first_party: false }, ['openid'])).toBe(false);
  });
});
