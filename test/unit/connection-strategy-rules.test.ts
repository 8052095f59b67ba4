import { describe, expect, it } from '@jest/globals';
import { draftConnection, patchConnection, signupOpen } from '../../src/domain/connection-rules.ts';
import { emailApplication } from '../../src/domain/email.ts';
import type { Application } from '../../src/domain/model.ts';
import { passwordPolicyOf, passwordProblems } from '../../src/domain/password-policy.ts';
import {
  connectionForEmail, identitiesOf, profileFromClaims, upstreamEndpoints, upstreamUserId, verifiedEmailsOf,
} from '../../src/domain/upstream.ts';
import { predatesPasswordReset } from '../../src/domain/user-rules.ts';

const now = '2026-01-01T00:00:00.000Z';

describe('password policy (Auth0\'s levels, never under 8 characters)', () => {
  const problems = (level: Parameters<typeof passwordPolicyOf>[0], password: string) => passwordProblems(password, passwordPolicyOf(level));
  it.each([
    [undefined, 'abcdefgh', 0], [undefined, 'abcdefg', 1],
    [{ passwordPolicy: 'low' as const }, 'abcdefgh', 0],
    [{ passwordPolicy: 'fair' as const }, 'abcdefgh', 1], [{ passwordPolicy: 'fair' as const }, 'Abcdefg1', 0],
    [{ passwordPolicy: 'good' as const }, 'abcdefg1', 1], [{ passwordPolicy: 'good' as const }, 'abcdef1!', 0], [{ passwordPolicy: 'good' as const }, 'ABCDEF1!', 0],
    [{ passwordPolicy: 'excellent' as const }, 'Abcdef1!x', 1], [{ passwordPolicy: 'excellent' as const }, 'Abcdef1!xy', 0], [{ passwordPolicy: 'excellent' as const }, 'Abccc1!xyz', 1],
    [{ passwordPolicy: 'none' as const, password_complexity_options: { min_length: 12 } }, 'abcdefghijk', 1],
  ])('%j accepts %s with %i problem(s)', (options, password, count) => {
    expect(problems(options, password)).toHaveLength(count);
  });
  it('counts characters, not UTF-16 units', () => {
    expect(problems(undefined, '😀😀😀😀')).toEqual(['At least 8 characters']);
  });
});

describe('connection options', () => {
  it('keep the client secret apart, and keep it when a PATCH of the options leaves it out', () => {
    const created = draftConnection({ name: 'corp', strategy: 'oidc', options: { issuer: 'https://idp.example', client_id: 'c', client_secret: 's' } }, 'con_1', now);
    expect(created.options).toEqual({ issuer: 'https://idp.example', client_id: 'c' });
    expect(created.secret_options).toEqual({ client_secret: 's' });
    const patched = patchConnection(created, { options: { issuer: 'https://idp2.example', client_id: 'c' } }, now);
    expect(patched.secret_options).toEqual({ client_secret: 's' });
    const frontChannel = patchConnection(created, { options: { issuer: 'https://idp.example', client_id: 'c', type: 'front_channel' } }, now);
    expect(frontChannel.secret_options).toBeUndefined();
  });
  it('open sign-up in database connections unless disabled (Auth0\'s default)', () => {
    expect(signupOpen(draftConnection({ name: 'db', strategy: 'auth0' }, 'con_1', now))).toBe(true);
    expect(signupOpen(draftConnection({ name: 'db', strategy: 'auth0', options: { disable_signup: true } }, 'con_1', now))).toBe(false);
    expect(signupOpen({ strategy: 'oidc' })).toBe(false);
  });
});

describe('upstream providers', () => {
  it('presets need only a client id and secret', () => {
    expect(upstreamEndpoints({ strategy: 'google-oauth2', options: { client_id: 'c' } })).toMatchObject({ protocol: 'oidc', discovery: 'https://accounts.google.com', scope: 'openid profile email' });
    expect(upstreamEndpoints({ strategy: 'github', options: { client_id: 'c' } })).toMatchObject({ protocol: 'oauth2', profileURL: 'https://api.github.com/user', emailsURL: 'https://api.github.com/user/emails' });
    expect(upstreamEndpoints({ strategy: 'windowslive', options: { client_id: 'c', scope: 'email' } })).toMatchObject({ protocol: 'oidc', scope: 'openid email' });
  });
  it('read profiles from OpenID Connect claims and OAuth 2.0 profile documents', () => {
    expect(profileFromClaims({ sub: 'u1', email: 'A@X.example', email_verified: true, name: 'A' })).toEqual({ sub: 'u1', email: 'a@x.example', email_verified: true, name: 'A' });
    expect(profileFromClaims({ id: 42, login: 'octo', email: null }, verifiedEmailsOf([{ email: 'o@x.example', verified: false }, { email: 'p@x.example', verified: true, primary: true }])))
      .toEqual({ sub: '42', email: 'p@x.example', email_verified: true, name: 'octo' });
    expect(profileFromClaims({ id: 42, email: 'public@x.example' }, [])).toMatchObject({ email_verified: false });
    expect(profileFromClaims({ name: 'nobody' })).toBeUndefined();
  });
  it('give user ids that two connections never share, and identities', () => {
    expect(upstreamUserId({ name: 'github', strategy: 'github' }, '42')).toBe('github|42');
    expect(upstreamUserId({ name: 'corp', strategy: 'oidc' }, 'u1')).toBe('oidc|corp|u1');
    expect(identitiesOf({ user_id: 'auth0|abc', connection: 'db' })).toEqual([{ connection: 'db', provider: 'auth0', user_id: 'abc', isSocial: false }]);
  });
  it('find the connection of an email domain (home-realm discovery)', () => {
    const corp = { name: 'corp', options: { domain_aliases: ['Corp.Example'] } };
    expect(connectionForEmail([corp], 'jo@corp.example')).toBe(corp);
    expect(connectionForEmail([corp], 'jo@sub.corp.example')).toBeUndefined();
    expect(connectionForEmail([corp], 'not an email')).toBeUndefined();
  });
});

describe('emails and resets', () => {
  const app = (fields: Partial<Application>) => ({ name: 'App', callbacks: ['https://app.example/cb'], is_first_party: true, ...fields }) as Application;
  it('never give a strict third-party application\'s callback domain to templates under open-redirect protection', () => {
    expect(emailApplication(app({}))).toEqual({ name: 'App', callback_domain: 'https://app.example' });
    expect(emailApplication(app({ is_first_party: false, third_party_security_mode: 'strict', redirection_policy: 'open_redirect_protection' })).callback_domain).toBe('');
    expect(emailApplication(app({ is_first_party: false, third_party_security_mode: 'strict', redirection_policy: 'allow_always' })).callback_domain).toBe('https://app.example');
  });
  it('end sessions and token chains that began before the last reset (whole seconds)', () => {
    const user = { last_password_reset: '2026-01-01T00:00:10.500Z' };
    const at = (iso: string) => Date.parse(iso) / 1000;
    expect(predatesPasswordReset(user, at('2026-01-01T00:00:09Z'))).toBe(true);
    expect(predatesPasswordReset(user, at('2026-01-01T00:00:10Z'))).toBe(false);
    expect(predatesPasswordReset({}, 0)).toBe(false);
  });
});
