import { Router, type RequestHandler } from 'express';
import type Provider from 'oidc-provider';
import { issuerBasePath } from '../domain/issuer.ts';

/**
 * When Gatehouse is mounted under a path (issuer `https://host/auth`), RFC 8414 puts the metadata at the host's root:
 * `/.well-known/oauth-authorization-server/auth` (and OIDC-style `/.well-known/openid-configuration/auth`, which MCP
 * clients also try). Mount this router at the host app's root. It hands the request to the provider as if it had
 * arrived at `<issuer>/.well-known/...`; both `url` and `originalUrl` change, so that advertised endpoints keep the path.
 * Network ACLs apply here as on the issuer's own discovery (`networkGuard`).
 */
export function rootWellKnownRouter(provider: Provider, issuer: string, networkGuard: RequestHandler): Router {
  const router = Router();
  const issuerPath = issuerBasePath(issuer);
  const providerCallback = provider.callback();
  if (!issuerPath) return router;
  for (const document of ['oauth-authorization-server', 'openid-configuration']) {
    router.get(`/.well-known/${document}${issuerPath}`, networkGuard, (req, res) => {
      req.url = `/.well-known/${document}`;
      req.originalUrl = `${issuerPath}/.well-known/${document}`;
      return providerCallback(req, res);
    });
  }
  return router;
}
