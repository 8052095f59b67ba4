import { describe, expect, it } from '@jest/globals';
import { isIdleRegistration, registrationDraft, RegistrationError, useWorthRecording } from '../../src/domain/registration.ts';

const now = '2026-01-01T00:00:00.000Z';
const day = 24 * 3600 * 1000;

describe('registration drafts', () => {
  it('infer a native application when every redirect URI is a loopback one', () => {
    expect(registrationDraft({ redirect_uris: ['http://127.0.0.1:9/cb', 'http://[::1]:9/cb', 'http://localhost/cb'] }, 'strict', now).app_type).toBe('native');
    expect(registrationDraft({ redirect_uris: ['https://a.example/cb'], token_endpoint_auth_method: 'none' }, 'strict', now).app_type).toBe('spa');
    expect(registrationDraft({ redirect_uris: ['https://a.example/cb'] }, 'strict', now).app_type).toBe('regular_web');
  });

  it('treat loopback redirects as native even when a client declares itself web, and refuse plain http elsewhere', () => {
    expect(registrationDraft({ redirect_uris: ['http://127.0.0.1:9/cb'], application_type: 'web' }, 'strict', now).app_type).toBe('native');
    expect(() => registrationDraft({ redirect_uris: ['http://127.0.0.1:9/cb', 'http://a.example/cb'] }, 'strict', now)).toThrow(RegistrationError);
  });

  it('take the tenant mode and always make third-party, dynamically registered applications', () => {
    const strict = registrationDraft({ redirect_uris: ['https://a.example/cb'] }, 'strict', now);
    expect(strict).toMatchObject({ is_first_party: false, third_party_security_mode: 'strict', registration_type: 'dynamic', grant_types: ['authorization_code', 'refresh_token'] });
    expect(registrationDraft({ redirect_uris: ['https://a.example/cb'] }, 'permissive', now).third_party_security_mode).toBe('permissive');
  });

  it('keep descriptive metadata only', () => {
    const draft = registrationDraft({ redirect_uris: ['https://a.example/cb'], client_uri: 'https://a.example', tos_uri: 'https://a.example/tos', scope: 'read' }, 'strict', now);
    expect(draft.registration_metadata).toEqual({ client_uri: 'https://a.example', tos_uri: 'https://a.example/tos', scope: 'read' });
  });
});

describe('usage and idleness', () => {
  it('records use at most once a day', () => {
    const t = Date.parse(now);
    expect(useWorthRecording({}, t)).toBe(true);
    expect(useWorthRecording({ last_used_at: now }, t + day - 1)).toBe(false);
    expect(useWorthRecording({ last_used_at: now }, t + day)).toBe(true);
  });

  it('calls a registration idle only without consent, past the idle period, and never an administrator-made app', () => {
    const t = Date.parse(now);
    const app = { registration_type: 'dynamic' as const, created_at: now };
    expect(isIdleRegistration(app, false, 30, t + 31 * day)).toBe(true);
    expect(isIdleRegistration(app, false, 30, t + 29 * day)).toBe(false);
    expect(isIdleRegistration(app, true, 30, t + 31 * day)).toBe(false);
    expect(isIdleRegistration({ ...app, last_used_at: new Date(t + 20 * day).toISOString() }, false, 30, t + 31 * day)).toBe(false);
    expect(isIdleRegistration({ ...app, registration_type: 'management_api' }, false, 30, t + 365 * day)).toBe(false);
    expect(isIdleRegistration(app, false, 0, t + 365 * day)).toBe(false);
  });
});
