import { describe, expect, it } from '@jest/globals';
import {
  clientIdUrlProblem, documentLifetimeSeconds, mergePublishedKeys, readClientMetadataDocument, readPublishedKeys,
} from '../../src/domain/client-id-metadata.ts';
import { clientIdentity, readAs } from '../../src/domain/known-agents.ts';
import type { SelfRegisteredClientPolicy } from '../../src/domain/model.ts';
import { claimedIdentities, registrationFingerprint } from '../../src/domain/registration.ts';
import { checkTrustRules, DEFAULT_SELF_REGISTERED_CLIENTS, initialTrust } from '../../src/domain/trust.ts';
import { unreachableScopes } from '../../src/domain/authorization.ts';

const URL_ = 'https://agents.example.com/client.json';
const doc = (extra: Record<string, unknown> = {}) => ({ client_id: URL_, client_name: 'Agent', redirect_uris: ['https://agents.example.com/cb'], ...extra });
const read = (extra: Record<string, unknown> = {}) => readClientMetadataDocument(URL_, doc(extra));

describe('client id metadata documents', () => {
  it('accepts Auth0\'s URLs and names what is wrong with the others', () => {
    const never = () => false;
    expect(clientIdUrlProblem(URL_, never)).toBeUndefined();
    expect(clientIdUrlProblem('https://agents.example.com:8443/a/b', never)).toBeUndefined();
    expect(clientIdUrlProblem(' https://agents.example.com/c', never)).toBe('must not start or end with white space');
    expect(clientIdUrlProblem('https://agents.example.com/%zz', never)).toBe('contains invalid percent-encoding');
    expect(clientIdUrlProblem('https://agents.example.com:0/c', never)).toBe('must not use port 0');
    expect(clientIdUrlProblem('https://agents.example.com/a/./c', never)).toBe('must not contain . or .. path segments');
    expect(clientIdUrlProblem('https://agents.example.com/c#x', never)).toBe('must not contain a fragment');
    expect(clientIdUrlProblem('https://localhost/c', never)).toBe('must not name a loopback host');
    expect(clientIdUrlProblem('https://localhost/c', (host) => host === 'localhost')).toBeUndefined();
  });

  it('takes the declared method, or chooses among RP Metadata Choices the strongest usable one', () => {
    expect(read({ token_endpoint_auth_method: 'none' }).document?.mapped.token_endpoint_auth_method).toBe('none');
    const chatgpt = read({ token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'], jwks_uri: 'https://agents.example.com/jwks.json' });
    expect(chatgpt.document?.mapped).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://agents.example.com/jwks.json' });
    const choicesOnly = read({ token_endpoint_auth_methods_supported: ['tls_client_auth', 'none'] });
    expect(choicesOnly.document?.mapped.token_endpoint_auth_method).toBe('none');
    const noKeys = read({ token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'] });
    expect(noKeys.document?.mapped.token_endpoint_auth_method).toBe('none');
    expect(noKeys.validation.warnings).toContain('token_endpoint_auth_method private_key_jwt cannot be used here: none, which the document also offers, is used');
    expect(read({ token_endpoint_auth_method: 'private_key_jwt' }).validation.violations).toEqual(['token_endpoint_auth_method private_key_jwt needs a jwks_uri']);
    expect(read({ token_endpoint_auth_method: 'tls_client_auth' }).validation.violations).toEqual(['token_endpoint_auth_method must be none or private_key_jwt (got "tls_client_auth")']);
    expect(read().validation.warnings).toContain('token_endpoint_auth_method is missing: none is assumed (the client has no secret)');
  });

  it('maps a document, ignoring with a warning what it cannot use, and infers a native client from loopback redirects', () => {
    const { validation, document } = read({
      redirect_uris: ['http://127.0.0.1/callback'], grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
      logo_uri: 'http://agents.example.com/logo.png', description: 'x'.repeat(141), software_id: 'agent', extra: 1,
    });
    expect(validation.valid).toBe(true);
    expect(document?.mapped).toMatchObject({ app_type: 'native', grant_types: ['authorization_code'], callbacks: ['http://127.0.0.1/callback'] });
    expect(document?.mapped.logo_uri).toBeUndefined();
    expect(document?.descriptive).toEqual({ software_id: 'agent' });
    expect(validation.warnings).toEqual([
      'grant types urn:ietf:params:oauth:grant-type:jwt-bearer are not available to clients identified by a metadata document and were ignored',
      'token_endpoint_auth_method is missing: none is assumed (the client has no secret)',
      'logo_uri is ignored: it must be an https URL', 'description is ignored: it must be text of at most 140 characters', 'property extra is not used and ignored',
    ]);
    expect(read({ application_type: 'desktop' }).validation.violations).toContain('application_type must be web or native (got "desktop")');
    expect(read({ redirect_uris: ['http://agents.example.com/cb'] }).validation.valid).toBe(false);
    expect(readClientMetadataDocument(URL_, [1]).validation.violations).toEqual(['the document is not a JSON object']);
  });

  it('reads public signing keys only, and keeps a known key id\'s first key', () => {
    const rsa = { kty: 'RSA', kid: 'a', n: 'n1', e: 'AQAB', use: 'sig', x5c: ['ignored'] };
    expect(readPublishedKeys({ keys: [rsa, { kty: 'RSA', n: 'n2', e: 'AQAB' }, { kty: 'EC', kid: 'enc', use: 'enc', crv: 'P-256', x: 'x', y: 'y' }] })).toEqual({
      keys: [{ kty: 'RSA', kid: 'a', n: 'n1', e: 'AQAB', use: 'sig' }], violations: [], warnings: ['keys[1] is ignored: it has no kid', 'key enc is ignored: it is not for signatures'],
    });
    expect(readPublishedKeys({ keys: [{ kty: 'oct', kid: 's', k: 'secret' }] }).violations).toEqual(['keys[0] holds private or symmetric key material: the key set must hold public keys only']);
    expect(readPublishedKeys({ keys: [] }).violations).toEqual(['the key set publishes no usable signing key']);
    const stored = [{ kty: 'RSA', kid: 'a', n: 'n1', e: 'AQAB' }, { kty: 'RSA', kid: 'old', n: 'n0', e: 'AQAB' }];
    const merged = mergePublishedKeys(stored, [{ kty: 'RSA', kid: 'a', n: 'evil', e: 'AQAB' }, { kty: 'RSA', kid: 'b', n: 'n3', e: 'AQAB' }]);
    expect(merged.keys.map((k) => [k.kid, k.n])).toEqual([['a', 'n1'], ['b', 'n3']]);
    expect(merged.warnings).toHaveLength(1);
  });

  it('bounds a document\'s cache lifetime to between 5 minutes and a day', () => {
    expect([0, 60, 300, 3600, 86_400, 10 ** 9].map(documentLifetimeSeconds)).toEqual([300, 300, 300, 3600, 86_400, 86_400]);
  });
});

describe('the trust ladder', () => {
  const policy = (extra: Partial<SelfRegisteredClientPolicy> = {}): SelfRegisteredClientPolicy => ({ ...DEFAULT_SELF_REGISTERED_CLIENTS, ...extra });
  const cimd = (url: string, redirects = ['https://x.example/cb']) => ({ path: 'client_id_metadata_document' as const, cimdUrl: url, redirectUris: redirects });

  it('starts a new client as the tenant chose for its path, pending when over budget', () => {
    const pendingDcr = policy({ initial_trust: { dynamic_registration: 'pending', client_id_metadata_document: 'trusted' } });
    expect(initialTrust({ path: 'dynamic_registration', redirectUris: ['https://a.example/cb'] }, pendingDcr, false)).toBe('pending');
    expect(initialTrust(cimd(URL_), pendingDcr, false)).toBe('trusted');
    expect(initialTrust(cimd(URL_), pendingDcr, true)).toBe('pending');
  });

  it('lets an exact URL rule win, then blocking rules, then trusting ones', () => {
    const rules = policy({
      trust_rules: [
        { cimd_url_prefix: 'https://agents.example.com/', trust: 'blocked' }, { cimd_url: URL_, trust: 'trusted' },
        { redirect_host: 'Evil.example', trust: 'blocked' }, { redirect_host: 'good.example', trust: 'trusted' },
      ],
      initial_trust: { dynamic_registration: 'pending', client_id_metadata_document: 'pending' },
    });
    expect(initialTrust(cimd(URL_, ['https://evil.example/cb']), rules, true)).toBe('trusted');
    expect(initialTrust(cimd('https://agents.example.com/other.json'), rules, false)).toBe('blocked');
    expect(initialTrust(cimd('https://elsewhere.example/c.json', ['https://good.example/cb']), rules, true)).toBe('trusted');
    expect(initialTrust(cimd('https://elsewhere.example/c.json', ['https://good.example/cb', 'https://evil.example/cb']), rules, false)).toBe('blocked');
    expect(initialTrust(cimd('https://elsewhere.example/c.json', ['https://good.example/cb', 'https://other.example/cb']), rules, false)).toBe('pending');
    expect(() => checkTrustRules([{ trust: 'trusted' }])).toThrow('must have exactly one of');
    expect(() => checkTrustRules([{ cimd_url_prefix: 'http://x/', trust: 'trusted' }])).toThrow('must start with https://');
  });
});

describe('registration without sprawl', () => {
  const app = (extra: Record<string, unknown> = {}) => ({
    name: 'Agent', callbacks: ['http://localhost:1234/callback'], grant_types: ['authorization_code'], token_endpoint_auth_method: 'none' as const, registration_metadata: {}, ...extra,
  });
  it('identifies a public registration regardless of its loopback port and of order, and never a confidential one', () => {
    expect(registrationFingerprint(app())).toBe(registrationFingerprint(app({ callbacks: ['http://localhost:9999/callback'] })));
    expect(registrationFingerprint(app({ callbacks: ['https://a.example/1', 'https://a.example/2'] }))).toBe(registrationFingerprint(app({ callbacks: ['https://a.example/2', 'https://a.example/1'] })));
    expect(registrationFingerprint(app())).not.toBe(registrationFingerprint(app({ registration_metadata: { software_version: '2' } })));
    expect(registrationFingerprint(app({ token_endpoint_auth_method: 'client_secret_post' }))).toBeUndefined();
  });
  it('claims identities by redirect host (not a loopback one), software_id and document host', () => {
    expect(claimedIdentities(app({ callbacks: ['https://A.example/cb', 'http://127.0.0.1/cb', 'https://a.example/other'], registration_metadata: { software_id: 'tool' }, external_client_id: URL_ })))
      .toEqual(['redirect-host:a.example', 'software-id:tool', 'document-host:agents.example.com']);
  });
});

describe('who is asking', () => {
  const agents = [{ client_id: URL_, name: 'Claude Code', vendor: 'Anthropic' }, { client_id: 'https://c.example/c.json', name: 'ChatGPT', vendor: 'OpenAI' }];
  it('reads names as people do', () => {
    expect(readAs('Cl4ude  Côde.')).toBe('claudecode');
    expect(readAs('Cla!de')).toBe('claide');
    expect(readAs('ЅhatGРТ')).toBe('shatgpt');
  });
  it('verifies an exact URL only, and warns for self-registered names that read like a known one', () => {
    const dynamic = { registration_type: 'dynamic' as const };
    expect(clientIdentity({ name: 'Claude Code', external_client_id: URL_, ...dynamic, external_metadata_type: 'cimd' }, agents)).toEqual({ verified: agents[0], documentHost: 'agents.example.com' });
    expect(clientIdentity({ name: 'ChatGPT helper', ...dynamic }, agents)).toEqual({ imitates: 'ChatGPT' });
    expect(clientIdentity({ name: 'Open AI tools', ...dynamic }, agents)).toEqual({ imitates: 'OpenAI' });
    expect(clientIdentity({ name: 'Notes', ...dynamic }, agents)).toEqual({});
    expect(clientIdentity({ name: 'ChatGPT', registration_type: 'management_api' }, agents)).toEqual({});
  });
});

describe('step-up', () => {
  it('names the scopes no requested API allows, ignoring identity and session scopes', () => {
    const apis = new Map([['https://api.example.com/', new Set(['read:notes'])]]);
    expect(unreachableScopes(['openid', 'profile', 'offline_access', 'read:notes', 'write:notes', 'phone', 'x', 'x'], apis)).toEqual(['write:notes', 'x']);
  });
});
