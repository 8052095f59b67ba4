import { describe, expect, it } from '@jest/globals';
import { corsOriginAllowed, DEVICE_CODE_GRANT, matchesWildcardCallback, permittedGrantTypes, protectsAgainstOpenRedirect, toOidcClientMetadata } from '../../src/domain/applications.ts';
import { authorizationRequest, conflictingTarget, effectiveRequestedScopes, nothingToGrant, requestedApis, scopeParameter, strictAuthorizationViolation } from '../../src/domain/authorization.ts';
import { connectionUsableBy } from '../../src/domain/connections.ts';
import { consentedScopes, storedConsentFor } from '../../src/domain/consent.ts';
import type { Application, Connection, RefreshTokenSettings, ResourceServer, UserGrant } from '../../src/domain/model.ts';
import { dialectClaims, mayIssueRefreshToken, refreshTokenLifetime, rotatesRefreshTokens, tokenDialectOf } from '../../src/domain/tokens.ts';

const now = '2026-01-01T00:00:00.000Z';
const refresh: RefreshTokenSettings = { rotation_type: 'non-rotating', expiration_type: 'expiring', leeway: 0, token_lifetime: 1000, infinite_token_lifetime: false, idle_token_lifetime: 100, infinite_idle_token_lifetime: false };
const app = (fields: Partial<Application> = {}): Application => ({
  client_id: 'app1', name: 'App', app_type: 'regular_web', is_first_party: true, callbacks: ['https://a/cb'], allowed_origins: [], web_origins: [], allowed_logout_urls: [],
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials', 'implicit', 'password', DEVICE_CODE_GRANT], token_endpoint_auth_method: 'client_secret_post',
  jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 3600 }, refresh_token: refresh, client_metadata: {}, oidc_conformant: true,
  registration_type: 'management_api', created_at: now, updated_at: now, ...fields,
});
const strict = (fields: Partial<Application> = {}) => app({ is_first_party: false, third_party_security_mode: 'strict', ...fields });
const permissive = (fields: Partial<Application> = {}) => app({ is_first_party: false, third_party_security_mode: 'permissive', ...fields });
const api = (allow_offline_access: boolean) => ({ allow_offline_access }) as ResourceServer;

describe('grant types an application may use', () => {
  it.each([
    ['first-party', app(), ['authorization_code', 'refresh_token', 'client_credentials', 'implicit', 'password', DEVICE_CODE_GRANT]],
    ['permissive third-party', permissive(), ['authorization_code', 'refresh_token', 'client_credentials', 'implicit']],
    ['strict confidential, made by an administrator', strict(), ['authorization_code', 'refresh_token', 'client_credentials']],
    ['strict public', strict({ token_endpoint_auth_method: 'none' }), ['authorization_code', 'refresh_token']],
    ['strict, dynamically registered', strict({ registration_type: 'dynamic' }), ['authorization_code', 'refresh_token']],
  ])('%s', (_name, application, expected) => {
    expect([...permittedGrantTypes(application)].sort()).toEqual([...expected].sort());
    expect(toOidcClientMetadata(application).grant_types.sort()).toEqual([...expected].sort());
  });

  it('derives response types from the grant types', () => {
    expect(toOidcClientMetadata(app()).response_types).toEqual(['code', 'id_token token', 'id_token']);
    expect(toOidcClientMetadata(strict({ grant_types: ['authorization_code', 'implicit'] })).response_types).toEqual(['code']);
    expect(toOidcClientMetadata(app({ grant_types: ['client_credentials'] })).response_types).toEqual([]);
  });
});

describe('open-redirect protection applies', () => {
  it('to strict third-party applications unless they allow redirects', () => {
    expect(protectsAgainstOpenRedirect(strict({ redirection_policy: 'open_redirect_protection' }))).toBe(true);
    expect(protectsAgainstOpenRedirect(strict())).toBe(true);
    expect(protectsAgainstOpenRedirect(strict({ redirection_policy: 'allow_always' }))).toBe(false);
    expect(protectsAgainstOpenRedirect(permissive({ redirection_policy: 'open_redirect_protection' }))).toBe(false);
    expect(protectsAgainstOpenRedirect(app())).toBe(false);
  });
});

describe('strict authorization requests', () => {
  const check = (application: Application, names: string[], extra: { responseMode?: string; route?: string } = {}) =>
    strictAuthorizationViolation(application, { parameterNames: names, route: extra.route ?? 'authorization', ...(extra.responseMode ? { responseMode: extra.responseMode } : {}) });

  it('allow Auth0\'s parameter list and ext-* parameters', () => {
    expect(check(strict(), ['client_id', 'response_type', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'resource', 'audience', 'prompt', 'ext-foo'])).toBeUndefined();
  });
  it('name every parameter outside it', () => {
    expect(check(strict(), ['client_id', 'claims', 'request'])).toBe('parameters claims, request are not allowed for third-party applications');
    expect(check(strict(), ['id_token_hint'])).toBe('parameter id_token_hint is not allowed for third-party applications');
  });
  it('refuse the fragment response mode', () => {
    expect(check(strict(), ['response_mode'], { responseMode: 'fragment' })).toMatch(/response_mode fragment/);
    expect(check(strict(), ['response_mode'], { responseMode: 'form_post' })).toBeUndefined();
  });
  it('apply to what a pushed request pushes, which may also carry the client\'s authentication', () => {
    const pushed = { route: 'pushed_authorization_request' };
    expect(check(strict(), ['client_id', 'client_secret', 'response_type', 'scope'], pushed)).toBeUndefined();
    expect(check(strict(), ['client_assertion', 'client_assertion_type', 'claims'], pushed)).toBe('parameter claims is not allowed for third-party applications');
    expect(check(strict(), ['response_mode'], { ...pushed, responseMode: 'fragment' })).toMatch(/response_mode fragment/);
    expect(check(strict(), ['client_secret'])).toBe('parameter client_secret is not allowed for third-party applications');
  });
  it('do not concern other applications', () => {
    expect(check(app(), ['claims', 'request'])).toBeUndefined();
    expect(check(permissive(), ['claims'])).toBeUndefined();
  });
});

describe('requested scopes', () => {
  it('drop identity scopes for strict third-party applications only', () => {
    expect(effectiveRequestedScopes(strict(), ['openid', 'profile', 'email', 'read', 'offline_access', 'read'])).toEqual(['read', 'offline_access']);
    expect(effectiveRequestedScopes(permissive(), ['openid', 'read'])).toEqual(['openid', 'read']);
  });
  it('keep offline_access only for applications allowed refresh tokens', () => {
    expect(effectiveRequestedScopes(app({ grant_types: ['authorization_code'] }), ['offline_access', 'read'])).toEqual(['read']);
  });
  it('must include something grantable', () => {
    const apis = new Map([['https://api/', new Set(['read'])]]);
    expect(nothingToGrant(['read'], apis)).toBeUndefined();
    expect(nothingToGrant(['offline_access'], apis)).toBeUndefined();
    expect(nothingToGrant(['openid'], new Map())).toBeUndefined();
    expect(nothingToGrant(['write'], apis)).toBe('the request names no scope this application may be granted; ask for at least one of https://api/: read');
    expect(nothingToGrant([], new Map())).toMatch(/the scopes of an API/);
  });
  it('are decided once: per API what it allows, and only protocol scopes something delivers', () => {
    const apis = new Map([['https://api/', new Set(['read', 'write'])]]);
    const asked = ['openid', 'email', 'address', 'phone', 'read', 'delete', 'offline_access'];
    expect(authorizationRequest(permissive(), asked, apis)).toEqual({ resourceScopes: { 'https://api/': ['read'] }, oidcScopes: ['openid', 'email', 'offline_access'] });
    expect(authorizationRequest(strict(), asked, apis)).toEqual({ resourceScopes: { 'https://api/': ['read'] }, oidcScopes: ['offline_access'] });
    expect(authorizationRequest(permissive(), ['address', 'phone'], new Map())).toEqual({ resourceScopes: {}, oidcScopes: [] });
    expect(scopeParameter(asked, authorizationRequest(permissive(), asked, apis))).toBe('openid email read offline_access');
  });
});

describe('audience and resource', () => {
  it('name the APIs of a request, resource first', () => {
    expect(requestedApis({ resource: 'https://r/', audience: 'https://a/' })).toEqual(['https://r/']);
    expect(requestedApis({ resource: ['https://r/', 'https://s/'] })).toEqual(['https://r/', 'https://s/']);
    expect(requestedApis({ audience: 'https://a/' })).toEqual(['https://a/']);
    expect(requestedApis({ audience: '' })).toEqual([]);
    expect(requestedApis({ audience: 42 })).toEqual([]);
  });

  it('may both be sent only when they agree', () => {
    expect(conflictingTarget(undefined, 'https://a/')).toBeUndefined();
    expect(conflictingTarget('https://a/', undefined)).toBeUndefined();
    expect(conflictingTarget('https://a/', 'https://a/')).toBeUndefined();
    expect(conflictingTarget('https://a/', 'https://b/')).toMatch(/different APIs/);
    expect(conflictingTarget('https://a/', ['https://a/', 'https://b/'])).toMatch(/different APIs/);
  });
});

describe('stored consent', () => {
  const consent = (audience: string, scope: string[]): UserGrant => ({ id: audience, user_id: 'u', clientID: 'c', audience, scope, oidc_grant_ids: [], created_at: now, updated_at: now });
  const userinfo = 'https://id/userinfo';

  it('covers a request whose every API scope and identity scope was consented', () => {
    const stored = storedConsentFor({ resourceScopes: { 'https://a/': ['read'] }, oidcScopes: ['offline_access'] }, [consent('https://a/', ['read', 'write', 'offline_access'])], userinfo);
    expect(stored).toEqual({ covers: true, granted: { resourceScopes: { 'https://a/': ['read'] }, oidcScopes: ['offline_access'] } });
  });
  it('does not cover new scopes, new APIs, or a request nobody consented to', () => {
    expect(storedConsentFor({ resourceScopes: { 'https://a/': ['read', 'write'] }, oidcScopes: [] }, [consent('https://a/', ['read'])], userinfo))
      .toEqual({ covers: false, granted: { resourceScopes: { 'https://a/': ['read'] }, oidcScopes: [] } });
    expect(storedConsentFor({ resourceScopes: { 'https://b/': ['read'] }, oidcScopes: [] }, [consent('https://a/', ['read'])], userinfo).covers).toBe(false);
    expect(storedConsentFor({ resourceScopes: {}, oidcScopes: [] }, [], userinfo).covers).toBe(false);
    expect(storedConsentFor({ resourceScopes: {}, oidcScopes: ['openid'] }, [consent(userinfo, ['openid'])], userinfo).covers).toBe(true);
  });
  it('accumulates scopes across consents', () => {
    expect(consentedScopes(consent('https://a/', ['read']), ['write', 'read'])).toEqual(['read', 'write']);
    expect(consentedScopes(undefined, ['read'])).toEqual(['read']);
  });
});

describe('refresh tokens', () => {
  it('rotate for third-party and public applications, else as configured', () => {
    expect(rotatesRefreshTokens(strict())).toBe(true);
    expect(rotatesRefreshTokens(app({ token_endpoint_auth_method: 'none' }))).toBe(true);
    expect(rotatesRefreshTokens(app())).toBe(false);
    expect(rotatesRefreshTokens(app({ refresh_token: { ...refresh, rotation_type: 'rotating' } }))).toBe(true);
  });
  it('need offline_access, the refresh_token grant and APIs allowing offline access', () => {
    const offline = new Set(['offline_access']);
    expect(mayIssueRefreshToken(app(), offline, [api(true)])).toBe(true);
    expect(mayIssueRefreshToken(app(), new Set(), [api(true)])).toBe(false);
    expect(mayIssueRefreshToken(app(), offline, [api(true), api(false)])).toBe(false);
    expect(mayIssueRefreshToken(app({ grant_types: ['authorization_code'] }), offline, [api(true)])).toBe(false);
    expect(mayIssueRefreshToken(app(), offline, [])).toBe(true);
    expect(mayIssueRefreshToken(strict(), offline, [])).toBe(false);
  });
  it('live the idle lifetime when rotating, never past the absolute one', () => {
    const rotating = strict({ refresh_token: { ...refresh, idle_token_lifetime: 100, token_lifetime: 1000 } });
    expect(refreshTokenLifetime(rotating, 0, 0)).toBe(100);
    expect(refreshTokenLifetime(rotating, 0, 950)).toBe(50);
    expect(refreshTokenLifetime(rotating, 0, 2000)).toBe(1);
    expect(refreshTokenLifetime(app(), 0, 10)).toBe(990);
  });
  it('never live forever for third-party applications', () => {
    const infinite = { ...refresh, infinite_token_lifetime: true, infinite_idle_token_lifetime: true, expiration_type: 'non-expiring' as const };
    expect(refreshTokenLifetime(strict({ refresh_token: infinite }), 0, 0)).toBe(100);
    expect(refreshTokenLifetime(app({ refresh_token: infinite }), 0, 0)).toBe(10 * 365 * 24 * 3600);
  });
});

describe('connections', () => {
  const connection = (fields: Partial<Connection>): Connection => ({ id: 'c', name: 'db', strategy: 'auth0', is_domain_connection: false, enabled_clients: [], created_at: now, updated_at: now, ...fields });
  it('are domain-level for third-party applications, enabled ones for first-party applications', () => {
    expect(connectionUsableBy(strict(), connection({ is_domain_connection: true }))).toBe(true);
    expect(connectionUsableBy(strict(), connection({ enabled_clients: ['app1'] }))).toBe(false);
    expect(connectionUsableBy(app(), connection({ enabled_clients: ['app1'] }))).toBe(true);
    expect(connectionUsableBy(app(), connection({ enabled_clients: ['other'], is_domain_connection: true }))).toBe(false);
    expect(connectionUsableBy(app(), connection({}))).toBe(true);
  });
});

describe('wildcard callbacks', () => {
  const registered = ['https://*.example.com/cb', 'https://exact.example.org/cb'];
  it.each([
    ['https://eu.example.com/cb', true],
    ['https://us-2.example.com/cb', true],
    ['https://a.b.example.com/cb', false],
    ['https://example.com/cb', false],
    ['https://eu.example.com/other', false],
    ['http://eu.example.com/cb', false],
    ['https://eu.example.com:8443/cb', false],
    ['https://eu.example.com/cb?x=1', false],
    ['https://evil.com/cb#.example.com', false],
    ['https://eu.example.com.evil.com/cb', false],
    ['https://x.exact.example.org/cb', false],
    ['https://user:pw@eu.example.com/cb', false],
    ['https://user@eu.example.com/cb', false],
    ['https://:pw@eu.example.com/cb', false],
  ])('%s → %s', (value, expected) => {
    expect(matchesWildcardCallback(value, registered)).toBe(expected);
  });
});

describe('CORS origins', () => {
  it('are the allowed and web origins, plus callback origins for public applications', () => {
    const confidential = app({ callbacks: ['https://web.example.com/cb'], allowed_origins: ['https://a.example.com'], web_origins: ['https://w.example.com/'] });
    expect(corsOriginAllowed(confidential, 'https://a.example.com')).toBe(true);
    expect(corsOriginAllowed(confidential, 'https://w.example.com')).toBe(true);
    expect(corsOriginAllowed(confidential, 'https://web.example.com')).toBe(false);
    expect(corsOriginAllowed({ ...confidential, token_endpoint_auth_method: 'none' }, 'https://web.example.com')).toBe(true);
    expect(corsOriginAllowed({ ...confidential, token_endpoint_auth_method: 'none' }, 'null')).toBe(false);
    expect(corsOriginAllowed(confidential, 'https://evil.example.com')).toBe(false);
  });
});

describe('token dialects', () => {
  const token = { clientId: 'app_1', scopes: ['read:items', 'write:items'] };
  it('add Auth0\'s azp (and gty for client credentials) in Auth0\'s profile only', () => {
    expect(dialectClaims('access_token', token)).toEqual({ azp: 'app_1' });
    expect(dialectClaims('access_token', { ...token, grant: 'client-credentials' })).toEqual({ azp: 'app_1', gty: 'client-credentials' });
    expect(dialectClaims('rfc9068_profile', { ...token, grant: 'client-credentials' })).toEqual({});
  });
  it('list the granted scopes as permissions in the _authz dialects', () => {
    expect(dialectClaims('access_token_authz', token)).toEqual({ azp: 'app_1', permissions: ['read:items', 'write:items'] });
    expect(dialectClaims('rfc9068_profile_authz', { ...token, scopes: [] })).toEqual({ permissions: [] });
  });
  it('default to Auth0\'s profile for APIs stored without one', () => {
    expect(tokenDialectOf({})).toBe('access_token');
  });
});
