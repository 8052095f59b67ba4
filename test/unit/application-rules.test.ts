import { describe, expect, it } from '@jest/globals';
import {
  checkRotatable, draftApplication, GRANT_TYPES, patchApplication, STRICT_THIRD_PARTY_PROPERTIES, urlProblem,
  type ApplicationCreate, type ApplicationDraft, type GrantType,
} from '../../src/domain/application-rules.ts';
import { DEVICE_CODE_GRANT } from '../../src/domain/applications.ts';
import type { AppType, Application, TokenEndpointAuthMethod } from '../../src/domain/model.ts';
import { outcome } from '../support/rules.ts';

const now = '2026-01-01T00:00:00.000Z';
const later = '2026-02-01T00:00:00.000Z';
const strictOnly = { allowPermissiveThirdParty: false };
const permissiveAllowed = { allowPermissiveThirdParty: true };

type Kind = 'first-party' | 'strict' | 'permissive';
const kindFields = (kind: Kind): Partial<ApplicationCreate> =>
  kind === 'first-party' ? {} : { is_first_party: false, third_party_security_mode: kind };

const stored = (draft: ApplicationDraft, fields: Partial<Application> = {}): Application => ({ ...draft, client_id: 'app1', client_secret_hash: 'hash', ...fields });

describe('draftApplication: defaults', () => {
  it.each<[Kind, AppType, TokenEndpointAuthMethod, string[], 'rotating' | 'non-rotating']>([
    ['first-party', 'regular_web', 'client_secret_post', ['authorization_code', 'refresh_token'], 'non-rotating'],
    ['first-party', 'spa', 'none', ['authorization_code', 'refresh_token'], 'rotating'],
    ['first-party', 'native', 'none', ['authorization_code', 'refresh_token'], 'rotating'],
    ['first-party', 'non_interactive', 'client_secret_post', ['client_credentials'], 'non-rotating'],
    ['strict', 'regular_web', 'client_secret_post', ['authorization_code', 'refresh_token'], 'non-rotating'],
    ['strict', 'spa', 'none', ['authorization_code', 'refresh_token'], 'rotating'],
    ['strict', 'native', 'none', ['authorization_code', 'refresh_token'], 'rotating'],
    ['strict', 'non_interactive', 'client_secret_post', ['client_credentials'], 'non-rotating'],
    ['permissive', 'spa', 'none', ['authorization_code', 'refresh_token'], 'rotating'],
  ])('%s %s: %s, grant types %j, %s refresh tokens', (kind, appType, authMethod, grantTypes, rotation) => {
    const app = draftApplication({ name: 'App', app_type: appType, ...kindFields(kind) }, permissiveAllowed, now);
    expect(app).toMatchObject({
      token_endpoint_auth_method: authMethod,
      grant_types: grantTypes,
      refresh_token: { rotation_type: rotation, expiration_type: 'expiring', infinite_token_lifetime: false, infinite_idle_token_lifetime: false },
      jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 3600 },
      oidc_conformant: true,
      registration_type: 'management_api',
      created_at: now,
      updated_at: now,
    });
  });

  it('makes applications first-party by default, with no third-party fields', () => {
    const app = draftApplication({ name: 'App' }, strictOnly, now);
    expect(app).toMatchObject({ is_first_party: true, app_type: 'regular_web', callbacks: [], allowed_logout_urls: [], client_metadata: {}, cross_origin_authentication: false });
    expect(app).not.toHaveProperty('third_party_security_mode');
    expect(app).not.toHaveProperty('redirection_policy');
  });

  it('makes third-party applications strict and protected against open redirects by default', () => {
    const app = draftApplication({ name: 'App', is_first_party: false }, permissiveAllowed, now);
    expect(app).toMatchObject({ third_party_security_mode: 'strict', redirection_policy: 'open_redirect_protection' });
    const relaxed = draftApplication({ name: 'App', is_first_party: false, redirection_policy: 'allow_always' }, strictOnly, now);
    expect(relaxed.redirection_policy).toBe('allow_always');
  });

  it('keeps what the request sets over the defaults', () => {
    const app = draftApplication({
      name: 'App', description: 'd', logo_uri: 'https://cdn.example.com/logo.png', grant_types: ['authorization_code'],
      jwt_configuration: { lifetime_in_seconds: 60 }, refresh_token: { leeway: 10 }, client_metadata: { team: 'a' },
    }, strictOnly, now);
    expect(app).toMatchObject({
      description: 'd', logo_uri: 'https://cdn.example.com/logo.png', grant_types: ['authorization_code'],
      jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 60 }, refresh_token: { leeway: 10, rotation_type: 'non-rotating' }, client_metadata: { team: 'a' },
    });
  });
});

describe('draftApplication: security mode', () => {
  it('refuses a security mode on a first-party application', () => {
    expect(outcome(() => draftApplication({ name: 'App', third_party_security_mode: 'strict' }, permissiveAllowed, now)))
      .toBe('invalid: invalid_body: third_party_security_mode applies to third-party applications only (is_first_party: false)');
  });

  it('creates permissive applications only where the tenant allows them', () => {
    const input: ApplicationCreate = { name: 'App', is_first_party: false, third_party_security_mode: 'permissive' };
    expect(outcome(() => draftApplication(input, strictOnly, now))).toMatch(/^invalid: invalid_body: This tenant cannot create permissive/);
    expect(draftApplication(input, permissiveAllowed, now).third_party_security_mode).toBe('permissive');
  });
});

describe('the curated property list of strict third-party applications', () => {
  const uncurated: Partial<ApplicationCreate>[] = [{ allowed_logout_urls: [] }, { cross_origin_authentication: false }];

  it.each(uncurated.map((extra) => [Object.keys(extra)[0], extra] as const))('refuses %s by name, even with its default value', (name, extra) => {
    expect(outcome(() => draftApplication({ name: 'App', ...kindFields('strict'), ...extra }, strictOnly, now)))
      .toBe(`invalid: invalid_body: Property ${name} is not available for strict third-party applications`);
    expect(outcome(() => draftApplication({ name: 'App', ...kindFields('permissive'), ...extra }, permissiveAllowed, now))).toBe('ok');
    expect(outcome(() => draftApplication({ name: 'App', ...extra }, strictOnly, now))).toBe('ok');
  });

  it('accepts every curated property', () => {
    const input: ApplicationCreate = {
      name: 'App', description: 'd', logo_uri: 'https://cdn.example.com/l.png', app_type: 'spa', is_first_party: false,
      third_party_security_mode: 'strict', redirection_policy: 'allow_always', callbacks: ['https://a.example.com/cb'],
      allowed_origins: ['https://a.example.com'], web_origins: ['https://a.example.com'], grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'none', jwt_configuration: { alg: 'RS256' }, refresh_token: { leeway: 0 }, client_metadata: {}, oidc_conformant: true,
    };
    expect(Object.keys(input).sort()).toEqual([...STRICT_THIRD_PARTY_PROPERTIES].sort());
    expect(outcome(() => draftApplication(input, strictOnly, now))).toBe('ok');
  });
});

describe('grant types', () => {
  /** Written from spec §2.1 and §3.1 rather than from the implementation. */
  function allowed(kind: Kind, grantType: GrantType, confidential: boolean): boolean {
    if (grantType === 'client_credentials') return confidential;
    if (grantType === 'password') return kind === 'first-party';
    if (grantType === DEVICE_CODE_GRANT) return kind === 'first-party'; // issue 18: first-party devices and tools only
    if (grantType === 'implicit') return kind !== 'strict';
    return true;
  }
  const cases: [Kind, GrantType, boolean][] = [];
  for (const kind of ['first-party', 'strict', 'permissive'] as const) {
    for (const grantType of GRANT_TYPES) for (const confidential of [true, false]) cases.push([kind, grantType, confidential]);
  }

  it.each(cases)('%s application, %s, confidential %s', (kind, grantType, confidential) => {
    const input: ApplicationCreate = {
      name: 'App', ...kindFields(kind), grant_types: [grantType], token_endpoint_auth_method: confidential ? 'client_secret_basic' : 'none',
    };
    const result = outcome(() => draftApplication(input, permissiveAllowed, now));
    expect(result === 'ok').toBe(allowed(kind, grantType, confidential));
    if (result !== 'ok') expect(result).toContain(grantType);
  });
});

describe('ID tokens and refresh tokens', () => {
  it('allows only RS256 for strict third-party applications', () => {
    expect(outcome(() => draftApplication({ name: 'App', ...kindFields('strict'), jwt_configuration: { alg: 'PS256' } }, strictOnly, now)))
      .toBe('invalid: invalid_body: jwt_configuration.alg must be RS256 for strict third-party applications (got PS256)');
    expect(outcome(() => draftApplication({ name: 'App', jwt_configuration: { alg: 'PS256' } }, strictOnly, now))).toBe('ok');
    expect(outcome(() => draftApplication({ name: 'App', ...kindFields('permissive'), jwt_configuration: { alg: 'ES256' } }, permissiveAllowed, now))).toBe('ok');
  });

  it.each([
    [{ expiration_type: 'non-expiring' as const }, /expiration_type must be "expiring"/],
    [{ infinite_token_lifetime: true }, /infinite_token_lifetime and refresh_token.infinite_idle_token_lifetime must be false/],
    [{ infinite_idle_token_lifetime: true }, /must be false/],
  ])('refuses refresh tokens that never expire for strict applications: %j', (refreshToken, problem) => {
    expect(outcome(() => draftApplication({ name: 'App', ...kindFields('strict'), refresh_token: refreshToken }, strictOnly, now))).toMatch(problem);
    expect(outcome(() => draftApplication({ name: 'App', refresh_token: refreshToken }, strictOnly, now))).toBe('ok');
    expect(outcome(() => draftApplication({ name: 'App', ...kindFields('permissive'), refresh_token: refreshToken }, permissiveAllowed, now))).toBe('ok');
  });

  it('refuses an idle lifetime longer than the absolute one, unless one of them is infinite', () => {
    const longIdle = { token_lifetime: 3600, idle_token_lifetime: 7200 };
    expect(outcome(() => draftApplication({ name: 'App', refresh_token: longIdle }, strictOnly, now)))
      .toBe('invalid: invalid_body: refresh_token.idle_token_lifetime cannot be longer than refresh_token.token_lifetime');
    expect(outcome(() => draftApplication({ name: 'App', refresh_token: { ...longIdle, infinite_token_lifetime: true } }, strictOnly, now))).toBe('ok');
    expect(outcome(() => draftApplication({ name: 'App', refresh_token: { ...longIdle, token_lifetime: 7200 } }, strictOnly, now))).toBe('ok');
  });
});

describe('urlProblem', () => {
  const thirdPartyWeb = { thirdParty: true, native: false };
  const thirdPartyNative = { thirdParty: true, native: true };
  const firstPartyWeb = { thirdParty: false, native: false };
  const firstPartyNative = { thirdParty: false, native: true };

  const firstPartyImplicit = { thirdParty: false, native: false, implicit: true };

  it.each<[string, 'callback' | 'origin' | 'endpoint', { thirdParty: boolean; native: boolean; implicit?: boolean }, string | undefined]>([
    ['https://app.example.com/callback', 'callback', thirdPartyWeb, undefined],
    ['https://app.example.com/callback?x=1', 'callback', thirdPartyWeb, undefined],
    ['/callback', 'callback', firstPartyWeb, 'is not an absolute URL'],
    ['not a url', 'callback', firstPartyWeb, 'is not an absolute URL'],
    ['https://app.example.com/cb#frag', 'callback', firstPartyWeb, 'must not contain a fragment'],
    ['https://app.example.com/cb#', 'callback', firstPartyWeb, 'must not contain a fragment'],
    ['https://user:pw@app.example.com/cb', 'callback', firstPartyWeb, 'must not contain user credentials'],
    ['https://*.example.com/cb', 'callback', thirdPartyWeb, 'must be exact: wildcards are not allowed for third-party applications'],
    ['https://app.example.com/*', 'callback', thirdPartyWeb, 'must be exact: wildcards are not allowed for third-party applications'],
    ['https://*.example.com/cb', 'callback', firstPartyWeb, undefined],
    ['https://*.com/cb', 'callback', firstPartyWeb, 'may hold a wildcard only as the leftmost label of the host name (https://*.example.com)'],
    ['https://a.*.example.com/cb', 'callback', firstPartyWeb, 'may hold a wildcard only as the leftmost label of the host name (https://*.example.com)'],
    ['https://*.example.com/*', 'callback', firstPartyWeb, 'may hold a wildcard only as the leftmost label of the host name (https://*.example.com)'],
    ['http://app.example.com/cb', 'callback', thirdPartyWeb, 'must use https (or http on a loopback host, for native applications)'],
    ['http://app.example.com/cb', 'callback', thirdPartyNative, 'must use https (or http on a loopback host, for native applications)'],
    ['http://127.0.0.1:33418/cb', 'callback', thirdPartyNative, undefined],
    ['http://[::1]:8080/cb', 'callback', thirdPartyNative, undefined],
    ['http://localhost:8080/cb', 'callback', thirdPartyNative, undefined],
    ['http://127.0.0.1:33418/cb', 'callback', thirdPartyWeb, 'must use https (or http on a loopback host, for native applications)'],
    ['http://app.example.com/cb', 'callback', firstPartyWeb, undefined],
    ['com.example.app:/callback', 'callback', thirdPartyNative, 'must use https (or http on a loopback host, for native applications)'],
    ['com.example.app:/callback', 'callback', firstPartyNative, undefined],
    ['http://app.example.com/cb', 'callback', firstPartyNative, 'must use https, or http on a loopback host (native applications, RFC 8252)'],
    ['http://127.0.0.1:8080/cb', 'callback', firstPartyNative, undefined],
    ['https://localhost/cb', 'callback', firstPartyNative, 'must not use https on a loopback host: native applications use http there (RFC 8252)'],
    ['https://127.0.0.1/cb', 'callback', thirdPartyNative, 'must not use https on a loopback host: native applications use http there (RFC 8252)'],
    ['http://app.example.com/cb', 'callback', firstPartyImplicit, 'must use https: the implicit flow returns tokens in the URL'],
    ['http://127.0.0.1:3000/cb', 'callback', firstPartyImplicit, 'must use https: the implicit flow returns tokens in the URL'],
    ['https://localhost/cb', 'callback', firstPartyImplicit, 'must not use localhost with the implicit flow'],
    ['https://app.example.com/cb', 'callback', firstPartyImplicit, undefined],
    ['http://localhost:3000', 'origin', firstPartyImplicit, undefined],
    ['http://127.0.0.1:9000/backchannel', 'endpoint', firstPartyWeb, undefined],
    ['https://*.example.com/backchannel', 'endpoint', firstPartyWeb, 'must be exact: no wildcards'],
    ['ftp://app.example.com/backchannel', 'endpoint', firstPartyWeb, 'must be an http or https URL'],
    ['https://app.example.com/backchannel#x', 'endpoint', firstPartyWeb, 'must not contain a fragment'],
    ['com.example.app:/callback', 'callback', firstPartyWeb, 'must use http or https'],
    ['javascript:alert(1)', 'callback', firstPartyNative, 'must use http or https, or a custom scheme of your own'],
    ['data:text/html,x', 'callback', firstPartyNative, 'must use http or https, or a custom scheme of your own'],
    ['https://app.example.com', 'origin', thirdPartyWeb, undefined],
    ['https://app.example.com/', 'origin', thirdPartyWeb, undefined],
    ['https://app.example.com:8443', 'origin', thirdPartyWeb, undefined],
    ['https://app.example.com/path', 'origin', thirdPartyWeb, 'must be an origin only (scheme://host[:port]), such as https://app.example.com'],
    ['https://APP.example.com', 'origin', thirdPartyWeb, 'must be an origin only (scheme://host[:port]), such as https://app.example.com'],
    ['http://app.example.com', 'origin', thirdPartyWeb, 'must be an https origin'],
    ['http://localhost:3000', 'origin', thirdPartyNative, undefined],
    ['http://localhost:3000', 'origin', firstPartyWeb, undefined],
    ['https://*.example.com', 'origin', firstPartyWeb, undefined],
    ['https://*.example.com', 'origin', thirdPartyWeb, 'must be exact: wildcards are not allowed for third-party applications'],
    ['com.example.app:', 'origin', firstPartyNative, 'must be an http or https origin'],
  ])('%s as a %s (%j): %s', (value, kind, app, expected) => {
    expect(urlProblem(value, kind, app)).toBe(expected);
  });

  it('checks every URL list of an application, naming the list and the entry', () => {
    for (const property of ['callbacks', 'allowed_logout_urls', 'allowed_origins', 'web_origins'] as const) {
      expect(outcome(() => draftApplication({ name: 'App', [property]: ['ftp://x.example.com'] }, strictOnly, now)))
        .toMatch(new RegExp(`^invalid: invalid_body: ${property} entry "ftp://x.example.com" must`));
    }
  });
});

describe('patchApplication', () => {
  const strictApp = stored(draftApplication({ name: 'App', ...kindFields('strict'), callbacks: ['https://a.example.com/cb'] }, strictOnly, now));

  it('replaces top-level fields, merges nested settings, stamps the update and keeps the secret', () => {
    const next = patchApplication(strictApp, { name: 'New', refresh_token: { leeway: 5 }, jwt_configuration: { lifetime_in_seconds: 60 } }, later);
    expect(next).toEqual({
      ...strictApp, name: 'New', updated_at: later,
      refresh_token: { ...strictApp.refresh_token, leeway: 5 }, jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 60 },
    });
  });

  it('keeps is_first_party and third_party_security_mode, accepting the same values', () => {
    expect(outcome(() => patchApplication(strictApp, { is_first_party: false, third_party_security_mode: 'strict' }, later))).toBe('ok');
    expect(outcome(() => patchApplication(strictApp, { is_first_party: true }, later))).toMatch(/^invalid: invalid_body: is_first_party cannot be changed/);
    expect(outcome(() => patchApplication(strictApp, { third_party_security_mode: 'permissive' }, later))).toMatch(/^invalid: invalid_body: third_party_security_mode cannot be changed/);
    const firstParty = stored(draftApplication({ name: 'App' }, strictOnly, now));
    expect(outcome(() => patchApplication(firstParty, { third_party_security_mode: 'strict' }, later))).toMatch(/third_party_security_mode cannot be changed/);
  });

  it('applies the curated property list to strict applications only', () => {
    expect(outcome(() => patchApplication(strictApp, { allowed_logout_urls: [] }, later))).toMatch(/Property allowed_logout_urls is not available/);
    const firstParty = stored(draftApplication({ name: 'App' }, strictOnly, now));
    expect(patchApplication(firstParty, { allowed_logout_urls: ['https://a.example.com/'] }, later).allowed_logout_urls).toEqual(['https://a.example.com/']);
  });

  it('checks the application it would produce, not only the fields sent', () => {
    const native = stored(draftApplication({ name: 'App', ...kindFields('strict'), app_type: 'native', callbacks: ['http://127.0.0.1:8080/cb'] }, strictOnly, now));
    expect(outcome(() => patchApplication(native, { app_type: 'regular_web' }, later))).toMatch(/callbacks entry "http:\/\/127.0.0.1:8080\/cb" must use https/);
    expect(outcome(() => patchApplication(strictApp, { refresh_token: { expiration_type: 'non-expiring' } }, later))).toMatch(/expiring/);
  });

  it('drops the secret of an application turned public, and does not invent one for an application turned confidential', () => {
    const publicApp = patchApplication(strictApp, { token_endpoint_auth_method: 'none' }, later);
    expect(publicApp).not.toHaveProperty('client_secret_hash');
    const confidentialAgain = patchApplication(publicApp, { token_endpoint_auth_method: 'client_secret_post' }, later);
    expect(confidentialAgain).not.toHaveProperty('client_secret_hash');
  });

  it('leaves Gatehouse\'s own applications alone', () => {
    const system = { ...strictApp, registration_type: 'system' as const };
    expect(outcome(() => patchApplication(system, { name: 'x' }, later))).toMatch(/^not_supported: operation_not_supported: /);
    expect(outcome(() => checkRotatable(system))).toMatch(/^not_supported: /);
  });
});

describe('checkRotatable', () => {
  it('rotates confidential applications only', () => {
    const confidential = stored(draftApplication({ name: 'App' }, strictOnly, now));
    const publicApp = stored(draftApplication({ name: 'App', app_type: 'spa' }, strictOnly, now));
    expect(outcome(() => checkRotatable(confidential))).toBe('ok');
    expect(outcome(() => checkRotatable(publicApp))).toBe('invalid: invalid_body: Application app1 is public (token_endpoint_auth_method "none") and has no secret to rotate');
  });
});
