import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { applicationKind, tokenExchangeType } from '../domain/log-events.ts';
import { recordEvent } from '../services/audit.ts';
import { userinfoAudience } from '../services/consent.ts';
import { loadedApplication } from './context.ts';

/** What oidc-provider tells about the token it issued: the access token of any grant, or the client-credentials one. */
interface IssuedToken {
  accountId?: string;
  scope?: string;
  resourceServer?: { identifier(): string };
}

/** The oidc-provider error of a failed request, as its error handler emits it. */
interface ProtocolError {
  error?: string;
  error_description?: string;
  error_detail?: string;
  message?: string;
}

/** oidc-provider (pinned version) says this when a rotated refresh token is used again: it has revoked the whole grant. */
const REUSE_DETECTED = 'refresh token already used';

/**
 * The application's id as every event names it: its stored id (a `tpc_` id for a metadata-document client, whose
 * protocol client id is its URL), so that `q=client_id:` finds all of one application's events; the URL goes in
 * `details.external_client_id`.
 */
function clientOf(ctx: KoaContextWithOIDC, fallback?: unknown): { client_id?: string; details: Record<string, unknown> } {
  const protocolId = ctx.oidc?.client?.clientId ?? (typeof fallback === 'string' ? fallback : undefined);
  const app = protocolId ? loadedApplication(ctx, protocolId) : undefined;
  return {
    ...(app?.client_id ?? protocolId ? { client_id: app?.client_id ?? protocolId } : {}),
    details: { ...(app ? { application_kind: applicationKind(app) } : {}), ...(app?.external_client_id ? { external_client_id: app.external_client_id } : {}) },
  };
}

const grantTypeOf = (ctx: KoaContextWithOIDC) => {
  const grantType = ctx.oidc?.params?.grant_type;
  return typeof grantType === 'string' ? grantType : undefined;
};

/**
 * Token exchanges (success and failure, per grant type), refresh-token reuse and logout, from oidc-provider's events
 * (`grant.success`, `grant.error`, `end_session.success`, `end_session.error`), recorded in the tenant log. Each is
 * emitted inside the request, so the event carries the request's address and agent.
 */
export function recordProtocolEvents(provider: Provider, issuer: string): void {
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = grantTypeOf(ctx);
    const entities = ctx.oidc.entities as { AccessToken?: IssuedToken; ClientCredentials?: IssuedToken };
    const token = entities.AccessToken ?? entities.ClientCredentials;
    const client = clientOf(ctx);
    recordEvent(tokenExchangeType(grantType, true), {
      ...client,
      user_id: token?.accountId,
      // A token for no API (identity scopes only) is for the userinfo endpoint, as Auth0 logs it.
      audience: token?.resourceServer?.identifier() ?? (token?.accountId ? userinfoAudience(issuer) : undefined),
      scope: token?.scope,
      details: { grant_type: grantType, ...client.details },
    });
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: ProtocolError) => {
    const grantType = grantTypeOf(ctx);
    const reuse = grantType === 'refresh_token' && err.error_detail === REUSE_DETECTED;
    const refreshToken = (ctx.oidc?.entities as { RefreshToken?: IssuedToken } | undefined)?.RefreshToken;
    const client = clientOf(ctx, ctx.oidc?.params?.client_id);
    recordEvent(reuse ? 'ferrt' : tokenExchangeType(grantType, false), {
      ...client,
      user_id: refreshToken?.accountId,
      description: err.error_description ?? err.message,
      details: { grant_type: grantType, error: err.error, ...client.details },
    });
  });
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    recordEvent('slo', { ...clientOf(ctx), user_id: ctx.oidc.session?.accountId });
  });
  provider.on('end_session.error', (ctx: KoaContextWithOIDC, err: ProtocolError) => {
    const client = clientOf(ctx);
    recordEvent('flo', { ...client, description: err.error_description ?? err.message, details: { error: err.error, ...client.details } });
  });
}
