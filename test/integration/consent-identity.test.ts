import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';
import { startDocumentHost, type DocumentHost } from '../support/document-host.ts';
import { createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, createUser, isConsentPage, pageOf, signIn } from '../support/flow.ts';
import { pkcePair, startGatehouse, testConfig, type TestGatehouse } from '../support/harness.ts';
import { managementCaller } from '../support/management.ts';

const email = 'consent@example.com';
const password = 'correct horse battery';

const register = (app: Express, body: Record<string, unknown>) =>
  request(app).post('/oidc/register').set('Content-Type', 'application/json').send(JSON.stringify({ token_endpoint_auth_method: 'none', ...body }));

describe('consent that tells the truth about who is asking', () => {
  let test: TestGatehouse;
  let host: DocumentHost;
  let apiIdentifier: string;
  let knownUrl: string;

  beforeAll(async () => {
    host = await startDocumentHost();
    knownUrl = `${host.origin}/vendor/agent.json`;
    test = await startGatehouse({
      config: {
        cimd: { allowed_private_hosts: ['localhost'], known_agents: [{ client_id: knownUrl, name: 'Vendor Agent', vendor: 'Example Vendor' }] },
        registration: { ...testConfig().registration, rate_limit_per_second: 1000 },
      },
    });
    const api = await createApi(test.gatehouse.stores);
    apiIdentifier = api.identifier;
    await createGrant(test.gatehouse.stores, { default_for: 'third_party_clients', audience: api.identifier, scope: ['read:notes'] });
    await createUser(test.gatehouse.stores, email, password);
    const management = await managementCaller(test);
    await management('patch', '/tenants/settings', { flags: { enable_dynamic_client_registration: true }, client_id_metadata_document_supported: true });
  });
  afterAll(async () => {
    await test.close();
    await host.close();
  });

  async function consentPage(clientId: string, redirectUri: string) {
    const { challenge } = pkcePair();
    const query = new URLSearchParams({
      client_id: clientId, response_type: 'code', redirect_uri: redirectUri, state: 's', code_challenge: challenge, code_challenge_method: 'S256', scope: 'read:notes', audience: apiIdentifier,
    });
    const browser = new Browser(test.app);
    const outcome = await signIn(browser, await browser.open(`/authorize?${query}`), email, password);
    expect(isConsentPage(outcome)).toBe(true);
    return pageOf(outcome).text;
  }

  const document = (url: string, name: string, redirect: string) => ({ client_id: url, client_name: name, redirect_uris: [redirect], token_endpoint_auth_method: 'none' });

  it('says "Verified" with the vendor only for a client id URL in the registry, byte for byte, and shows the document\'s host', async () => {
    host.serve('/vendor/agent.json', document(knownUrl, 'Vendor Agent', 'https://vendor.example.com/cb'));
    const page = await consentPage(knownUrl, 'https://vendor.example.com/cb');
    expect(page).toContain('Verified: Example Vendor');
    expect(page).toContain(`Described by <strong>${new URL(knownUrl).host}</strong>`);
    expect(page).toContain('sent to <strong>vendor.example.com</strong>');
    expect(page).not.toContain('is not verified');

    const lookalike = `${host.origin}/vendor/agent.json/`; // one byte more: not the registry's URL
    host.serve('/vendor/agent.json/', document(lookalike, 'Vendor Agent', 'https://vendor.example.com/cb'));
    const other = await consentPage(lookalike, 'https://vendor.example.com/cb');
    expect(other).not.toContain('Verified:');
    expect(other).toContain('“Vendor Agent” is the name this application gave itself, and it is not verified');
  });

  it.each([
    ['Claude', 'Claude'],
    ['ChatGPT Plus', 'ChatGPT'],
    ['Cl4ude helper', 'Claude'],
    ['СhatGPT', 'ChatGPT'], // a Cyrillic С
  ])('warns that a self-registered client named "%s" is not verified', async (name, imitated) => {
    const registered = await register(test.app, { client_name: name, redirect_uris: ['https://phish.example.net/cb'] }).expect(201);
    const page = await consentPage(registered.body.client_id, 'https://phish.example.net/cb');
    expect(page).toContain('Check who this is.');
    expect(page).toContain(`cannot tell that it comes from ${imitated}`);
    expect(page).toContain('sent to <strong>phish.example.net</strong>');
    expect(page).not.toContain('Verified:');
  });

  it('warns for a metadata document whose name imitates a known agent, and not for plain names or administrators\' applications', async () => {
    const path = `/impostor-${randomBytes(3).toString('hex')}.json`;
    const url = host.serve(path, document(`${host.origin}${path}`, 'ChatGPT', 'https://impostor.example.com/cb'));
    expect(await consentPage(url, 'https://impostor.example.com/cb')).toContain('cannot tell that it comes from ChatGPT');

    const plain = await register(test.app, { client_name: 'Notes Sync', redirect_uris: ['https://notes.example.com/cb'] }).expect(201);
    expect(await consentPage(plain.body.client_id, 'https://notes.example.com/cb')).not.toContain('Check who this is.');
    const { app } = await thirdPartyApp(test.gatehouse.stores, { name: 'Claude for Teams', callbacks: ['https://teams.example.com/cb'], token_endpoint_auth_method: 'none' });
    expect(await consentPage(app.client_id, 'https://teams.example.com/cb')).not.toContain('Check who this is.');
  });
});
