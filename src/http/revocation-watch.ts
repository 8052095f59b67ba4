import { setTimeout as delay } from 'node:timers/promises';
import { Ajv, type JSONSchemaType } from 'ajv';
import { issuerUrl } from '../domain/issuer.ts';
import { RevocationIndex, type RevocableToken, type RevocationFeedPage } from '../domain/revocations.ts';

/** Reads one page of an API's revocations after a cursor (the `next` of the previous page; none at first). */
export type RevocationSource = (after: string | undefined, signal: AbortSignal) => Promise<RevocationFeedPage>;

export interface RevocationWatchOptions {
  /** Seconds between two reads of the feed: a revocation reaches the API within about that. 2 by default. */
  pollSeconds?: number;
  /**
   * Once reads of the feed fail, how long (seconds) tokens are still accepted, checked against the revocations learnt
   * until then; after that every request answers 503 until a read succeeds. 30 by default. `Infinity` accepts tokens
   * however long the feed is away (fail open); 0 answers 503 as soon as a read fails (fail closed). Before the feed was
   * read once, requests wait for the first read and answer 503 if it fails (unless `Infinity`).
   */
  maxStalenessSeconds?: number;
  /** Told of each failed read (to log it, count it); reading goes on. */
  onError?: (error: Error) => void;
}

/** What a resource server learns of a token it verified: still valid, revoked, or unknown for now (the feed is away). */
export type RevocationVerdict = 'valid' | 'revoked' | 'unavailable';

/** The revocations of one API, followed from Gatehouse: give it to `requireAccessToken` as `revocations`. */
export interface RevocationWatch {
  /** The API whose revocations these are (the `audience` of `requireAccessToken`). */
  readonly audience: string;
  /** Seconds a client should wait before trying again when the verdict is `unavailable`. */
  readonly retryAfterSeconds: number;
  /** The verdict on a verified token: at once, but for the very first requests, which wait for the first read. */
  verdict(token: RevocableToken): RevocationVerdict | Promise<RevocationVerdict>;
  /** Stops reading the feed. */
  close(): void;
}

const FEED_TIMEOUT_MS = 5000;
/** How often the records that can no longer match a valid token are forgotten. */
const FORGET_EVERY_MS = 60_000;

/**
 * Follows the revocations of an API from `source`: reads the feed every `pollSeconds` (all pages at once) into an index
 * in memory, and answers each verified token with lookups in it. Where the records come from is the source's business:
 * Gatehouse's store in middleware mode, its feed endpoint in any other process (`watchRevocations`).
 */
export function followRevocations(audience: string, source: RevocationSource, options: RevocationWatchOptions = {}): RevocationWatch {
  const pollMs = (options.pollSeconds ?? 2) * 1000;
  const maxStaleMs = (options.maxStalenessSeconds ?? 30) * 1000;
  const index = new RevocationIndex();
  let cursor: string | undefined;
  let syncedAt: number | undefined;
  let failingSince: number | undefined;
  /** When the page being read was asked for (undefined between reads). */
  let askedAt: number | undefined;
  let forgottenAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function poll(): Promise<void> {
    try {
      let page: RevocationFeedPage;
      do {
        askedAt = Date.now();
        page = await source(cursor, AbortSignal.timeout(FEED_TIMEOUT_MS));
        askedAt = undefined;
        index.add(page.revocations);
        cursor = page.next;
      } while (page.more && !closed);
      syncedAt = Date.now();
      failingSince = undefined;
      if (syncedAt - forgottenAt >= FORGET_EVERY_MS) {
        index.forgetExpired(syncedAt / 1000);
        forgottenAt = syncedAt;
      }
    } catch (err) {
      askedAt = undefined;
      failingSince ??= Date.now();
      options.onError?.(err instanceof Error ? err : new Error(String(err)));
    } finally {
      if (!closed) {
        timer = setTimeout(() => void poll(), pollMs);
        timer.unref();
      }
    }
  }

  // The first requests wait for the first read, for as long as one page may take at most.
  let firstRead: Promise<void> | undefined = Promise.race([poll(), delay(FEED_TIMEOUT_MS, undefined, { ref: false })]).finally(() => {
    firstRead = undefined;
  });

  function current(token: RevocableToken): RevocationVerdict {
    if (maxStaleMs !== Number.POSITIVE_INFINITY) {
      const now = Date.now();
      // A page that outlives its timeout (a source that ignores it) counts as a failure from then on.
      const failing = failingSince ?? (askedAt !== undefined && now - askedAt > FEED_TIMEOUT_MS ? askedAt + FEED_TIMEOUT_MS : undefined);
      if (syncedAt === undefined || (failing !== undefined && now - failing >= maxStaleMs)) return 'unavailable';
    }
    return index.refuses(token, audience) ? 'revoked' : 'valid';
  }

  return {
    audience,
    retryAfterSeconds: Math.max(1, Math.ceil(pollMs / 1000)),
    verdict: (token) => (firstRead ? firstRead.then(() => current(token)) : current(token)),
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}

const FEED_PAGE: JSONSchemaType<RevocationFeedPage> = {
  type: 'object',
  required: ['revocations', 'next', 'more'],
  properties: {
    revocations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'key', 'issued_before', 'expires_at'],
        properties: { id: { type: 'string' }, key: { type: 'string' }, issued_before: { type: 'number' }, expires_at: { type: 'number' } },
      },
    },
    next: { type: 'string' },
    more: { type: 'boolean' },
  },
};
const isFeedPage = new Ajv().compile(FEED_PAGE);

/** RFC 6749 §2.3.1: client credentials in HTTP Basic are form-encoded first. */
const formEncoded = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

export interface RemoteRevocationOptions extends RevocationWatchOptions {
  /** Gatehouse's issuer URL. */
  issuer: string;
  /** The API's identifier. */
  audience: string;
  /**
   * The API's own application: first-party, with a secret, and a client grant for the API with `subject_type: client`
   * (any scopes, none included). Only such an application may read the API's revocations.
   */
  clientId: string;
  clientSecret: string;
  /** Where the feed is; `<issuer>/oauth/revocations` by default. */
  feedUrl?: string;
}

/**
 * The revocations of an API, followed from another process than Gatehouse's: `GET <issuer>/oauth/revocations` with
 * the API's own application's credentials (HTTP Basic), every `pollSeconds`. (In middleware mode, use
 * `gatehouse.watchRevocations(audience)`, which reads Gatehouse's store.)
 */
export function watchRevocations(options: RemoteRevocationOptions): RevocationWatch {
  const feed = new URL(options.feedUrl ?? issuerUrl(options.issuer, 'oauth/revocations'));
  feed.searchParams.set('audience', options.audience);
  const authorization = `Basic ${Buffer.from(`${formEncoded(options.clientId)}:${formEncoded(options.clientSecret)}`).toString('base64')}`;
  const source: RevocationSource = async (after, signal) => {
    const url = new URL(feed);
    if (after !== undefined) url.searchParams.set('after', after);
    const res = await fetch(url, { headers: { authorization, accept: 'application/json' }, signal, redirect: 'error' });
    const body: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const { error, error_description: description } = (body ?? {}) as { error?: unknown; error_description?: unknown };
      throw new Error(`the revocation feed ${feed.origin}${feed.pathname} answered ${res.status}${typeof error === 'string' ? ` ${error}: ${String(description)}` : ''}`);
    }
    if (!isFeedPage(body)) throw new Error(`the revocation feed ${feed.origin}${feed.pathname} answered something else than a page of revocations`);
    return body;
  };
  return followRevocations(options.audience, source, options);
}
