import * as client from 'openid-client';
import type { Adapter } from 'oidc-provider';
import { isLoopbackRedirect } from '../domain/applications.ts';
import type { Connection } from '../domain/model.ts';
import { profileFromClaims, upstreamEndpoints, verifiedEmailsOf, type UpstreamEndpoints, type UpstreamProfile } from '../domain/upstream.ts';

/**
 * The upstream side of enterprise and social sign-in, with openid-client: discovery, the authorization request
 * (state, nonce, PKCE S256), the code exchange with ID token validation, userinfo or the profile endpoint.
 */

/** Seconds Gatehouse waits for a provider before telling the person it did not answer. */
const UPSTREAM_TIMEOUT_SECONDS = 10;
/** How long discovered metadata is reused before it is read again (keys rotate; endpoints rarely move). */
const METADATA_TTL_MS = 10 * 60_000;
/** How long a person has to sign in at their provider. */
export const UPSTREAM_LOGIN_TTL_SECONDS = 15 * 60;

/** Why signing in through a provider failed, in words a page can show. */
export class UpstreamError extends Error {
  /** `upstream_error`: the provider answered with an error; `unreachable`: it did not answer; `invalid_response`: its answer failed a check. */
  readonly kind: 'upstream_error' | 'unreachable' | 'invalid_response';
  /** The provider's own error code, when it sent one. */
  readonly code: string | undefined;
  constructor(kind: UpstreamError['kind'], message: string, code?: string) {
    super(message);
    this.kind = kind;
    this.code = code;
  }
}

/** Errors are recognised by name, not class: fetch's errors may come from another realm (a VM context). */
const isNetworkFailure = (err: unknown) => {
  const { name, message } = (err ?? {}) as { name?: unknown; message?: unknown };
  return name === 'TimeoutError' || name === 'AbortError' || (name === 'TypeError' && /fetch failed/i.test(String(message)));
};

/** An error and its causes, outermost first (openid-client wraps fetch's TypeError, which wraps the socket error). */
function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = err; current !== undefined && chain.length < 5; current = (current as { cause?: unknown })?.cause) chain.push(current);
  return chain;
}

/** The reason behind a failed call to a provider: its error code and description, a network failure, or a failed check. */
export function upstreamFailure(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof client.ResponseBodyError || err instanceof client.AuthorizationResponseError) {
    return new UpstreamError('upstream_error', err.error_description ? `${err.error}: ${err.error_description}` : err.error, err.error);
  }
  // A 401 with a challenge: the client did not authenticate (the challenge names the error, invalid_client if any).
  if (err instanceof client.WWWAuthenticateChallengeError) {
    const code = err.cause.find((challenge) => typeof challenge.parameters.error === 'string')?.parameters.error ?? 'invalid_client';
    const description = err.cause.find((challenge) => typeof challenge.parameters.error_description === 'string')?.parameters.error_description;
    return new UpstreamError('upstream_error', description ? `${code}: ${description}` : code, code);
  }
  const chain = causes(err);
  // GitHub answers errors with HTTP 200 and an `error` member, which openid-client reports as a malformed response.
  const body = chain.map((e) => (e as { body?: { error?: unknown; error_description?: unknown } })?.body).find((b) => typeof b?.error === 'string');
  if (body) {
    const code = String(body.error);
    return new UpstreamError('upstream_error', typeof body.error_description === 'string' ? `${code}: ${body.error_description}` : code, code);
  }
  if (chain.some(isNetworkFailure)) {
    const deepest = chain.at(-1) as { code?: string; message?: string } | undefined;
    return new UpstreamError('unreachable', `the provider did not answer (${deepest?.code ?? deepest?.message ?? 'no answer'})`);
  }
  const response = chain.find((e): e is Response => e instanceof Response);
  const status = response ? ` (HTTP ${response.status})` : '';
  return new UpstreamError('invalid_response', `${err instanceof Error ? err.message : String(err)}${status}`);
}

const insecureAllowed = (url: string) => isLoopbackRedirect(url);

/** openid-client's view of a connection's provider, built from its endpoints and credentials. */
async function configurationFor(connection: Connection, endpoints: UpstreamEndpoints): Promise<client.Configuration> {
  const clientId = connection.options?.client_id ?? '';
  const secret = connection.secret_options?.client_secret;
  if (endpoints.protocol === 'oidc') {
    const execute = insecureAllowed(endpoints.discovery) ? [client.allowInsecureRequests] : [];
    const discovered = await client.discovery(new URL(endpoints.discovery), clientId, undefined, undefined, { execute, timeout: UPSTREAM_TIMEOUT_SECONDS });
    const methods = discovered.serverMetadata().token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
    // Built again with the client authentication the provider supports (Basic is the default of both specifications).
    const auth = endpoints.channel === 'front_channel' ? client.None() : methods.includes('client_secret_basic') ? client.ClientSecretBasic(secret) : client.ClientSecretPost(secret);
    const configuration = new client.Configuration(discovered.serverMetadata(), clientId, secret, auth);
    if (endpoints.channel === 'front_channel') client.useIdTokenResponseType(configuration);
    return withOptions(configuration, execute);
  }
  const metadata = { issuer: new URL(endpoints.authorizationURL).origin, authorization_endpoint: endpoints.authorizationURL, token_endpoint: endpoints.tokenURL };
  const execute = [endpoints.authorizationURL, endpoints.tokenURL, endpoints.profileURL].some(insecureAllowed) ? [client.allowInsecureRequests] : [];
  return withOptions(new client.Configuration(metadata, clientId, secret, client.ClientSecretPost(secret)), execute);
}

function withOptions(configuration: client.Configuration, execute: ((config: client.Configuration) => void)[]) {
  configuration.timeout = UPSTREAM_TIMEOUT_SECONDS;
  for (const extension of execute) extension(configuration);
  return configuration;
}

const configurations = new Map<string, { at: number; configuration: Promise<client.Configuration> }>();

/** The provider's configuration, discovered at most every few minutes per version of the connection. */
function configurationOf(connection: Connection): Promise<client.Configuration> {
  const key = `${connection.id}@${connection.updated_at}`;
  const cached = configurations.get(key);
  if (cached && Date.now() - cached.at < METADATA_TTL_MS) return cached.configuration;
  for (const [other] of configurations) if (other.startsWith(`${connection.id}@`)) configurations.delete(other);
  const configuration = configurationFor(connection, upstreamEndpoints(connection));
  configurations.set(key, { at: Date.now(), configuration });
  configuration.catch(() => configurations.delete(key)); // a provider that was down is asked again next time
  return configuration;
}

/**
 * Checks, before a connection is stored, that its provider can be used: the discovery document is there and fits
 * the channel, and the provider accepts the client credentials (a token request with a code that cannot exist is
 * answered `invalid_grant` when the client authenticated, `invalid_client` when it did not). Throws an UpstreamError
 * saying what failed.
 */
export async function checkUpstream(connection: Connection, redirectUri: string): Promise<void> {
  const endpoints = upstreamEndpoints(connection);
  let configuration: client.Configuration;
  try {
    configuration = await configurationFor(connection, endpoints);
  } catch (err) {
    const failure = upstreamFailure(err);
    throw new UpstreamError(failure.kind, `the discovery document at ${endpoints.protocol === 'oidc' ? endpoints.discovery : 'the provider'} could not be used: ${failure.message}`);
  }
  if (endpoints.protocol === 'oidc' && endpoints.channel === 'front_channel') {
    const metadata = configuration.serverMetadata();
    if (!metadata.response_types_supported?.includes('id_token') || !metadata.response_modes_supported?.includes('form_post')) {
      throw new UpstreamError('invalid_response', 'type front_channel needs a provider that supports response_type id_token with response_mode form_post, and its discovery document does not list them');
    }
    return; // no credentials to check: the front channel has no client secret
  }
  try {
    await client.genericGrantRequest(configuration, 'authorization_code', { code: 'gatehouse-credential-check', redirect_uri: redirectUri });
  } catch (err) {
    const failure = upstreamFailure(err);
    // GitHub answers with its own codes, and with 200 rather than 400.
    if (failure.kind === 'upstream_error' && ['invalid_client', 'unauthorized_client', 'incorrect_client_credentials'].includes(failure.code ?? '')) {
      throw new UpstreamError('upstream_error', `the provider refused the client credentials (${failure.message})`, failure.code);
    }
    if (failure.kind === 'unreachable') throw new UpstreamError('unreachable', `the token endpoint could not be reached: ${failure.message}`);
    if (failure.kind !== 'upstream_error') throw new UpstreamError(failure.kind, `the token endpoint answered unexpectedly: ${failure.message}`);
    // Any other OAuth error (invalid_grant, bad_verification_code…): the client was authenticated, only the code was refused.
    return;
  }
  throw new UpstreamError('invalid_response', 'the token endpoint accepted a made-up authorization code');
}

/** What Gatehouse remembers between sending a person to their provider and their return (kept server-side, by state). */
export interface UpstreamTransaction {
  connection_id: string;
  /** The oidc-provider interaction this sign-in completes. */
  interaction: string;
  code_verifier: string;
  nonce: string;
  /** Set once a front-channel answer (posted cross-site, so without cookies) was checked: the browser then confirms it. */
  profile?: UpstreamProfile;
}

/** Where to send the person: the provider's authorization URL with state, nonce and PKCE S256. */
export async function upstreamAuthorizationUrl(connection: Connection, redirectUri: string, state: string, transaction: Pick<UpstreamTransaction, 'code_verifier' | 'nonce'>, loginHint?: string): Promise<URL> {
  const endpoints = upstreamEndpoints(connection);
  let configuration: client.Configuration;
  try {
    configuration = await configurationOf(connection);
  } catch (err) {
    throw upstreamFailure(err);
  }
  const frontChannel = endpoints.protocol === 'oidc' && endpoints.channel === 'front_channel';
  const parameters: Record<string, string> = {
    redirect_uri: redirectUri,
    scope: endpoints.scope,
    state,
    ...(endpoints.protocol === 'oidc' ? { nonce: transaction.nonce } : {}),
    ...(frontChannel ? { response_mode: 'form_post' } : { code_challenge: await client.calculatePKCECodeChallenge(transaction.code_verifier), code_challenge_method: 'S256' }),
    ...(loginHint && endpoints.protocol === 'oidc' ? { login_hint: loginHint } : {}),
  };
  return client.buildAuthorizationUrl(configuration, parameters);
}

export const newUpstreamSecrets = () => ({ state: client.randomState(), code_verifier: client.randomPKCECodeVerifier(), nonce: client.randomNonce() });

/**
 * The person's profile from the provider's answer at the callback: the code exchanged (PKCE, state, and for OpenID
 * Connect the ID token's signature, issuer, audience, expiry and nonce), then userinfo or the profile endpoint. For a
 * front-channel connection, the ID token posted back, checked the same way.
 */
export async function upstreamProfile(connection: Connection, callbackUrl: URL, state: string, transaction: UpstreamTransaction, posted?: URLSearchParams): Promise<UpstreamProfile> {
  const endpoints = upstreamEndpoints(connection);
  try {
    const configuration = await configurationOf(connection);
    let claims: Record<string, unknown>;
    let verifiedEmails: string[] = [];
    if (endpoints.protocol === 'oidc' && endpoints.channel === 'front_channel') {
      const request = new Request(callbackUrl, { method: 'POST', body: posted ?? new URLSearchParams(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      claims = { ...await client.implicitAuthentication(configuration, request, transaction.nonce, { expectedState: state }) };
    } else {
      const tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: transaction.code_verifier, expectedState: state,
        ...(endpoints.protocol === 'oidc' ? { expectedNonce: transaction.nonce, idTokenExpected: true } : {}),
      });
      if (endpoints.protocol === 'oidc') {
        const idToken = tokens.claims();
        if (!idToken) throw new UpstreamError('invalid_response', 'the provider returned no ID token');
        const userinfo = configuration.serverMetadata().userinfo_endpoint ? await client.fetchUserInfo(configuration, tokens.access_token, idToken.sub) : {};
        claims = { ...idToken, ...userinfo };
      } else {
        claims = await readJson(configuration, tokens.access_token, endpoints.profileURL);
        if (endpoints.emailsURL) verifiedEmails = verifiedEmailsOf(await readJson(configuration, tokens.access_token, endpoints.emailsURL));
      }
    }
    const profile = profileFromClaims(claims, verifiedEmails);
    if (!profile) throw new UpstreamError('invalid_response', 'the provider did not say who signed in (no sub or id)');
    return profile;
  } catch (err) {
    throw upstreamFailure(err);
  }
}

async function readJson(configuration: client.Configuration, accessToken: string, url: string): Promise<Record<string, unknown>> {
  const response = await client.fetchProtectedResource(configuration, accessToken, new URL(url), 'GET', undefined, new Headers({ accept: 'application/json' }));
  if (!response.ok) throw new UpstreamError('invalid_response', `the profile endpoint answered HTTP ${response.status}`);
  const body = await response.json().catch(() => undefined);
  if (typeof body !== 'object' || body === null) throw new UpstreamError('invalid_response', 'the profile endpoint did not answer with JSON');
  return body as Record<string, unknown>;
}

/**
 * Transactions of sign-ins in progress, kept in the store of short-lived artifacts (Redis when configured, else the
 * embedded sessions file): by the state's digest, sealed, expiring, and taken once.
 */
export function upstreamTransactions(adapter: Adapter) {
  return {
    save: (state: string, transaction: UpstreamTransaction) => adapter.upsert(state, { ...transaction }, UPSTREAM_LOGIN_TTL_SECONDS),
    async find(state: string): Promise<UpstreamTransaction | undefined> {
      const found = await adapter.find(state);
      return found && !found.consumed ? (found as unknown as UpstreamTransaction) : undefined;
    },
    /** Single use: the second taker (a replayed callback) gets nothing. */
    async take(state: string): Promise<UpstreamTransaction | undefined> {
      const found = await adapter.find(state);
      if (!found || found.consumed) return undefined;
      try {
        await adapter.consume(state);
      } catch {
        return undefined;
      }
      return found as unknown as UpstreamTransaction;
    },
  };
}
export type UpstreamTransactions = ReturnType<typeof upstreamTransactions>;
