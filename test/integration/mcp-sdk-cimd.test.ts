import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { auth, extractWWWAuthenticateParams, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { createPrivateKeyJwtAuth } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import express from 'express';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { protectedResourceMetadata, requireAccessToken } from '../../src/http/resource-server.ts';
import { startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';
import { startDocumentHost, type DocumentHost } from '../support/document-host.ts';
import { createApi, createGrant } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, isConsentPage, pageOf, signIn } from '../support/flow.ts';
import { pathOf } from '../support/harness.ts';

const email = 'mcp-user@example.com';
const password = 'correct horse battery';

/** The OAuth client provider an MCP client implements, kept in memory: what the SDK saves, it reads back. */
class MemoryProvider implements OAuthClientProvider {
  clientMetadataUrl: string;
  addClientAuthentication?: OAuthClientProvider['addClientAuthentication'];
  authorizationUrl?: URL;
  private info?: OAuthClientInformationMixed;
  private saved?: OAuthTokens;
  private verifier = '';
  private readonly callback: string;
  constructor(clientMetadataUrl: string, callback: string) {
    this.clientMetadataUrl = clientMetadataUrl;
    this.callback = callback;
  }
  get redirectUrl() { return this.callback; }
  get clientMetadata(): OAuthClientMetadata { return { client_name: 'MCP Test Agent', redirect_uris: [this.callback], token_endpoint_auth_method: 'none' }; }
  clientInformation() { return this.info; }
  saveClientInformation(info: OAuthClientInformationMixed) { this.info = info; }
  tokens() { return this.saved; }
  saveTokens(tokens: OAuthTokens) { this.saved = tokens; }
  redirectToAuthorization(url: URL) { this.authorizationUrl = url; }
  saveCodeVerifier(verifier: string) { this.verifier = verifier; }
  codeVerifier() { return this.verifier; }
}

/** The official MCP TypeScript SDK's auth() against a protected resource, through a client id metadata document. */
describe('the MCP SDK through a Client ID Metadata Document', () => {
  let gatehouse: LiveGatehouse;
  let documents: DocumentHost;
  let resource: Server;
  let mcpUrl: string;
  let browserApp: express.Express;

  beforeAll(async () => {
    documents = await startDocumentHost();
    gatehouse = await startLiveGatehouse({ cimd: { allowed_private_hosts: ['localhost'], known_agents: [] } });
    browserApp = express().use(gatehouse.gatehouse.router);
    resource = createServer();
    await new Promise<void>((resolve) => resource.listen(0, '127.0.0.1', resolve));
    mcpUrl = `http://127.0.0.1:${(resource.address() as { port: number }).port}/mcp`;
    const { issuer } = gatehouse.gatehouse.config;
    resource.on('request', express()
      .use(protectedResourceMetadata({ resource: mcpUrl, authorizationServers: [issuer], scopes: ['read:notes'] }))
      .get('/mcp', requireAccessToken({ issuer, audience: mcpUrl, scopes: ['read:notes'] }), (req, res) => void res.json({ tools: [], for: req.auth?.clientId })));

    const { stores } = gatehouse.gatehouse;
    const api = await createApi(stores, { identifier: mcpUrl });
    await createGrant(stores, { default_for: 'third_party_clients', audience: api.identifier, scope: ['read:notes'] });
    await createUser(stores, email, password);
    await stores.durable.settings.update('tenant', { set: { client_id_metadata_document_supported: true } });
  });
  afterAll(async () => {
    resource.closeAllConnections();
    await new Promise((resolve) => resource.close(resolve));
    await gatehouse.close();
    await documents.close();
  });

  /** The person's part: sign in and allow (unless already allowed), in Gatehouse's pages; returns where the browser was sent back to. */
  async function personAuthorizes(authorizationUrl: URL): Promise<URL> {
    const browser = new Browser(browserApp);
    let outcome = await signIn(browser, await browser.open(pathOf(authorizationUrl.href)), email, password);
    if (isConsentPage(outcome)) outcome = await browser.submit(pageOf(outcome), { action: 'accept' });
    return callbackOf(outcome);
  }

  it('completes auth() with the document URL as client_id, and the token opens the protected resource', async () => {
    const documentUrl = documents.serve('/mcp-agent/client.json', {
      client_id: `${documents.origin}/mcp-agent/client.json`, client_name: 'MCP Test Agent', redirect_uris: ['http://localhost/callback'],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none',
    });
    const unauthenticated = await fetch(mcpUrl);
    expect(unauthenticated.status).toBe(401);
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(unauthenticated);

    const provider = new MemoryProvider(documentUrl, 'http://localhost:53682/callback');
    expect(await auth(provider, { serverUrl: mcpUrl, ...(resourceMetadataUrl ? { resourceMetadataUrl } : {}) })).toBe('REDIRECT');
    expect(provider.clientInformation()?.client_id).toBe(documentUrl); // no registration: the URL is the client id
    const authorizationUrl = provider.authorizationUrl as URL;
    expect(Object.fromEntries(authorizationUrl.searchParams)).toMatchObject({ client_id: documentUrl, resource: mcpUrl, code_challenge_method: 'S256', scope: 'read:notes' });

    const callback = await personAuthorizes(authorizationUrl);
    expect(callback.origin).toBe('http://localhost:53682');
    expect(await auth(provider, { serverUrl: mcpUrl, authorizationCode: callback.searchParams.get('code') as string })).toBe('AUTHORIZED');
    const tokens = provider.tokens() as OAuthTokens;
    expect(decodeJwt(tokens.access_token)).toMatchObject({ client_id: documentUrl, aud: mcpUrl, scope: 'read:notes' });

    const call = await fetch(mcpUrl, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(call.status).toBe(200);
    expect(await call.json()).toEqual({ tools: [], for: documentUrl });

  });

  it('completes auth() for a ChatGPT-shaped document, the SDK authenticating at the token endpoint with private_key_jwt', async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    const jwksUrl = documents.serve('/chat/jwks.json', { keys: [{ ...await exportJWK(pair.publicKey), kid: 'chat-1', alg: 'RS256', use: 'sig' }] });
    const documentUrl = documents.serve('/chat/client.json', {
      client_id: `${documents.origin}/chat/client.json`, client_uri: 'https://chat.example.com/', client_name: 'Chat Assistant',
      redirect_uris: ['https://chat.example.com/connector/oauth/xyz'], token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'], grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], token_endpoint_auth_signing_alg: 'RS256', jwks_uri: jwksUrl,
    });
    const provider = new MemoryProvider(documentUrl, 'https://chat.example.com/connector/oauth/xyz');
    provider.addClientAuthentication = createPrivateKeyJwtAuth({
      issuer: documentUrl, subject: documentUrl, privateKey: { ...await exportJWK(pair.privateKey), kid: 'chat-1' }, alg: 'RS256',
    });
    expect(await auth(provider, { serverUrl: mcpUrl })).toBe('REDIRECT');
    const callback = await personAuthorizes(provider.authorizationUrl as URL);
    expect(await auth(provider, { serverUrl: mcpUrl, authorizationCode: callback.searchParams.get('code') as string })).toBe('AUTHORIZED');
    const call = await fetch(mcpUrl, { headers: { authorization: `Bearer ${(provider.tokens() as OAuthTokens).access_token}` } });
    expect(await call.json()).toEqual({ tools: [], for: documentUrl });

    // Without the assertion the token endpoint refuses the same client.
    const unsigned = new MemoryProvider(documentUrl, 'https://chat.example.com/connector/oauth/xyz');
    expect(await auth(unsigned, { serverUrl: mcpUrl })).toBe('REDIRECT');
    const again = await personAuthorizes(unsigned.authorizationUrl as URL);
    await expect(auth(unsigned, { serverUrl: mcpUrl, authorizationCode: again.searchParams.get('code') as string })).rejects.toThrow(/client/i);
  });
});
