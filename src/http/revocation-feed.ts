import { Router, type Response } from 'express';
import { readRevocationFeed, revocationReaderRefusal } from '../services/revocations.ts';
import type { DurableStore } from '../store/ports.ts';
import { NO_STORE } from './no-store.ts';
import { authChallenge } from './www-authenticate.ts';

/** A cursor is a time-ordered id (`next` of a page), or a prefix of one. */
const CURSOR = /^[0-9a-f]{12,64}$/;

/** RFC 6749 §2.3.1: the client id and secret in HTTP Basic, each form-encoded first. */
function basicCredentials(header: string | undefined): { clientId: string; secret: string } | undefined {
  const encoded = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    const formDecoded = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
    const clientId = formDecoded(decoded.slice(0, colon));
    const secret = formDecoded(decoded.slice(colon + 1));
    return clientId && secret ? { clientId, secret } : undefined;
  } catch {
    return undefined;
  }
}

const oauthError = (res: Response, status: number, error: string, description: string) => void res.status(status).json({ error, error_description: description });

function unauthenticated(res: Response, description: string): void {
  res.set('WWW-Authenticate', authChallenge('Basic', { realm: 'revocations' }));
  oauthError(res, 401, 'invalid_client', description);
}

/**
 * `GET <issuer>/oauth/revocations?audience=<API>&after=<next>`: the feed of revocations an API's resource servers
 * follow (`watchRevocations` in src/http/revocation-watch.ts), read by the API's own application only
 * (`mayReadRevocations`). Records name what they revoke by a digest only. RFC 6749 errors.
 */
export function revocationFeedRouter(store: DurableStore): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    res.set(NO_STORE);
    const credentials = basicCredentials(req.get('authorization'));
    if (!credentials) return unauthenticated(res, 'authenticate with the client id and secret of the API\'s own application (HTTP Basic)');
    const { audience, after } = req.query;
    if (typeof audience !== 'string' || !audience) return oauthError(res, 400, 'invalid_request', 'audience (the identifier of the API) is required, once');
    if (after !== undefined && (typeof after !== 'string' || !CURSOR.test(after))) {
      return oauthError(res, 400, 'invalid_request', 'after must be the next of a previous page, once');
    }
    const refusal = await revocationReaderRefusal(store, credentials.clientId, credentials.secret, audience);
    if (refusal === 'invalid_client') return unauthenticated(res, 'client authentication failed');
    if (refusal) {
      return oauthError(res, 403, 'unauthorized_client',
        `only the API's own application reads its revocations: a first-party application with a secret and a client grant for ${audience} with subject_type client`);
    }
    return void res.json(await readRevocationFeed(store, audience, after));
  });
  router.all('/', (_req, res) => {
    res.set('Allow', 'GET, HEAD');
    oauthError(res, 405, 'invalid_request', 'read the revocations with GET');
  });
  return router;
}
