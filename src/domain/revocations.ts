import { hash } from 'node:crypto';
import { grantScopes } from './access.ts';
import { tokenSubjectType } from './access-tokens.ts';
import { isThirdParty, protocolClientId } from './applications.ts';
import { newTimeOrderedId, timeOrderedIdAt } from './ids.ts';
import type { AccessPolicy, Application, ClientGrant, ResourceServer, Revocation, SubjectType } from './model.ts';

/**
 * What a revocation ends: the tokens of a protocol grant, of a user, of an application, of an application for one API,
 * or of every application for one API. `gone` says the user or application was deleted: its id is never used again.
 */
export type RevokedAccess =
  /** A protocol grant: consent withdrawn, a refresh token revoked or replayed, a logout. Grant ids are never reused. */
  | { kind: 'grant'; grantId: string }
  /** A user deleted (`gone`) or blocked. */
  | { kind: 'user'; userId: string; gone: boolean }
  /** An application deleted (`gone`) or blocked. `clientId` as its tokens carry it (`protocolClientId`). */
  | { kind: 'application'; clientId: string; gone: boolean }
  /** An application's tokens for an API, for users or for itself: its client grant was removed or narrowed. */
  | { kind: 'application_api'; clientId: string; audience: string; subjectType: SubjectType }
  /** Every token for an API, for users or for applications: the API deleted, its default grant or access policy narrowed. */
  | { kind: 'api'; audience: string; subjectType: SubjectType };

/**
 * Tokens issued this many seconds after a revocation are refused too, so that one being issued while the revocation is
 * recorded cannot slip through (a user blocked and unblocked within it must sign in again after it).
 */
export const REVOCATION_GRACE_SECONDS = 2;

type Digest = (kind: string, id: string) => string;
/** A digest (128 bits) of an id: what the feed says instead of the id; resource servers compute it from claims. */
const digest: Digest = (kind, id) => hash('sha256', `${kind}:${id}`, 'base64url').slice(0, 22);
const clientApiKey = (clientDigest: string, audience: string, subjectType: SubjectType) => `${clientDigest} ${subjectType} ${audience}`;
const apiKey = (audience: string, subjectType: SubjectType) => `${subjectType} ${audience}`;

/**
 * The key a revocation is stored and published under. Users, applications and grants appear only as digests of their
 * ids, so that the feed names none of them; APIs, which are public, in clear.
 */
export function revocationKey(access: RevokedAccess): string {
  switch (access.kind) {
    case 'grant': return digest('grant', access.grantId);
    case 'user': return digest('sub', access.userId);
    case 'application': return digest('client', access.clientId);
    case 'application_api': return clientApiKey(digest('client', access.clientId), access.audience, access.subjectType);
    case 'api': return apiKey(access.audience, access.subjectType);
  }
}

/** The longest an access token lives (seconds): the longest `token_lifetime` of the APIs. */
export const longestTokenLifetime = (apis: readonly Pick<ResourceServer, 'token_lifetime'>[]): number =>
  apis.reduce((longest, api) => Math.max(longest, api.token_lifetime), 0);

/**
 * The record of one revocation at `nowMs`. Tokens issued until the grace period ends are refused; when nothing can ever
 * be issued again under what was revoked (a protocol grant, a deleted user or application), every token still alive is,
 * whenever it was issued. Either way the record lasts as long as the longest token lifetime, then is useless.
 */
export function revocationRecord(access: RevokedAccess, nowMs: number, longestLifetimeSeconds: number): Revocation {
  const cutoff = Math.floor(nowMs / 1000) + REVOCATION_GRACE_SECONDS;
  const expiresAt = cutoff + longestLifetimeSeconds;
  const permanent = access.kind === 'grant' || ((access.kind === 'user' || access.kind === 'application') && access.gone);
  return {
    id: newTimeOrderedId(nowMs),
    key: revocationKey(access),
    ...(access.kind === 'application_api' || access.kind === 'api' ? { audience: access.audience } : {}),
    issued_before: permanent ? expiresAt : cutoff,
    expires_at: expiresAt,
  };
}

/** Records made before this id (time-ordered) have expired: the retention of the revocations collection. */
export const expiredRevocationsBefore = (nowMs: number, longestLifetimeSeconds: number): string =>
  timeOrderedIdAt(nowMs - (longestLifetimeSeconds + REVOCATION_GRACE_SECONDS) * 1000);

/** The revocations that end every token for an API (it was deleted). */
export const everyAccessTo = (audience: string): RevokedAccess[] =>
  (['user', 'client'] as const).map((subjectType) => ({ kind: 'api', audience, subjectType }));

type NamedApplication = Pick<Application, 'client_id' | 'external_client_id'>;

/** What deleting (`gone`) or blocking an application ends: its tokens, which name it by its protocol client id (a CIMD URL). */
export const accessOfApplication = (application: NamedApplication, gone: boolean): RevokedAccess =>
  ({ kind: 'application', clientId: protocolClientId(application), gone });

/**
 * What removing or narrowing a client grant ends: its application's tokens for the API (`application`: the grant's, as
 * its tokens name it), or, for a default grant, every application's.
 */
export const accessOfClientGrant = (grant: ClientGrant, application: NamedApplication | undefined): RevokedAccess => (grant.client_id !== undefined
  ? { kind: 'application_api', clientId: protocolClientId(application ?? { client_id: grant.client_id }), audience: grant.audience, subjectType: grant.subject_type }
  : { kind: 'api', audience: grant.audience, subjectType: grant.subject_type });

/** Whether a change of a client grant takes away a scope it allowed (its tokens carrying it must end). */
export function clientGrantNarrowed(api: ResourceServer, before: ClientGrant, after: ClientGrant): boolean {
  const kept = new Set(grantScopes(api, after));
  return grantScopes(api, before).some((scope) => !kept.has(scope));
}

const STRICTNESS: Record<AccessPolicy, number> = { allow_all: 0, require_client_grant: 1, deny_all: 2 };

/** The subject types whose access policy a change of an API made stricter (tokens issued under the old one end). */
export const accessPoliciesTightened = (before: ResourceServer, after: ResourceServer): SubjectType[] =>
  (['user', 'client'] as const).filter((subjectType) =>
    STRICTNESS[after.subject_type_authorization[subjectType].policy] > STRICTNESS[before.subject_type_authorization[subjectType].policy]);

/** The claims of an access token that revocations are matched on (decoded and verified by the resource server). */
export interface RevocableToken {
  clientId?: string | undefined;
  subject?: string | undefined;
  grantId?: string | undefined;
  /** `iat`, in epoch seconds. */
  issuedAt?: number | undefined;
}

/**
 * The keys of every revocation that would end this token for this API (`revocationKey` of its grant, its user, its
 * application, the application's access to the API and anyone's), computed on every request: each id is hashed once.
 */
export function revocationKeysOf(token: RevocableToken, audience: string, digestOf: Digest = digest): string[] {
  const subjectType = tokenSubjectType(token.subject, token.clientId);
  const keys = [apiKey(audience, subjectType)];
  if (token.grantId !== undefined) keys.push(digestOf('grant', token.grantId));
  if (subjectType === 'user' && token.subject !== undefined) keys.push(digestOf('sub', token.subject));
  if (token.clientId !== undefined) {
    const client = digestOf('client', token.clientId);
    keys.push(client, clientApiKey(client, audience, subjectType));
  }
  return keys;
}

/** How many digests a resource server remembers before it starts again (a few MB at most). */
const DIGESTS_REMEMBERED = 20_000;

/**
 * The revocations a resource server knows, by key: a token is refused when one of its keys was revoked after it was
 * issued. Lookups only (a few digests of claims already decoded); nothing is asked of the network per token.
 */
export class RevocationIndex {
  private readonly byKey = new Map<string, { issuedBefore: number; expiresAt: number }>();
  /** Digests computed lately, by input: an API sees the same users, applications and grants again and again. */
  private readonly digests = new Map<string, string>();
  private readonly digestOf: Digest = (kind, id) => {
    const input = `${kind}:${id}`;
    let known = this.digests.get(input);
    if (known === undefined) {
      if (this.digests.size >= DIGESTS_REMEMBERED) this.digests.clear();
      known = digest(kind, id);
      this.digests.set(input, known);
    }
    return known;
  };

  get size(): number {
    return this.byKey.size;
  }

  /** Adds records (the same record twice is harmless; of two for one key, the later cutoff and expiry win). */
  add(records: Iterable<Pick<Revocation, 'key' | 'issued_before' | 'expires_at'>>): void {
    for (const { key, issued_before, expires_at } of records) {
      const known = this.byKey.get(key);
      this.byKey.set(key, known
        ? { issuedBefore: Math.max(known.issuedBefore, issued_before), expiresAt: Math.max(known.expiresAt, expires_at) }
        : { issuedBefore: issued_before, expiresAt: expires_at });
    }
  }

  /** Forgets the records that can no longer match a valid token. */
  forgetExpired(nowSeconds: number): void {
    for (const [key, { expiresAt }] of this.byKey) if (expiresAt <= nowSeconds) this.byKey.delete(key);
  }

  refuses(token: RevocableToken, audience: string): boolean {
    if (this.byKey.size === 0) return false;
    const issuedAt = token.issuedAt ?? Number.NEGATIVE_INFINITY;
    return revocationKeysOf(token, audience, this.digestOf).some((key) => {
      const known = this.byKey.get(key);
      return known !== undefined && issuedAt < known.issuedBefore;
    });
  }
}

/** What the feed publishes of a record (its audience is implied: a feed is read for one API). */
export type PublishedRevocation = Pick<Revocation, 'id' | 'key' | 'issued_before' | 'expires_at'>;

export interface RevocationFeedPage {
  revocations: PublishedRevocation[];
  /** The `after` of the next read. */
  next: string;
  /** Whether more records follow at once (read again without waiting). */
  more: boolean;
}

/** Records read per page of the feed. */
export const REVOCATION_FEED_PAGE_SIZE = 500;

/**
 * How far back a feed reader reads again every time: a record's id is made (by the clock of the process recording it)
 * a moment before it is written, so a record may appear after a younger one was read. Readers see it on a later read.
 */
export const REVOCATION_FEED_SETTLE_MS = 10_000;

/**
 * One page of the feed of an API, from the records read after the reader's cursor (in id order, at most `pageSize`):
 * those for any API or this one, still useful. When the page is the last, the next read starts again from the settle
 * point, so that records written late are not missed; readers apply a record seen twice once.
 */
export function revocationFeedPage(rows: readonly Revocation[], audience: string, pageSize: number, nowMs: number): RevocationFeedPage {
  const more = rows.length >= pageSize;
  const nowSeconds = nowMs / 1000;
  const revocations = rows
    .filter((row) => (row.audience === undefined || row.audience === audience) && row.expires_at > nowSeconds)
    .map(({ id, key, issued_before, expires_at }) => ({ id, key, issued_before, expires_at }));
  const last = rows.at(-1);
  return { revocations, next: more && last ? last.id : timeOrderedIdAt(nowMs - REVOCATION_FEED_SETTLE_MS), more };
}

/**
 * May this application read the revocations of this API? The API's own backend: a first-party application with a
 * secret, holding its own client grant for the API for itself (`subject_type: client`), whatever the grant's scopes and
 * the API's policies. Third-party applications never may.
 */
export function mayReadRevocations(application: Pick<Application, 'client_id' | 'is_first_party' | 'client_secret_hash'>, clientGrants: readonly ClientGrant[], audience: string): boolean {
  if (isThirdParty(application) || !application.client_secret_hash) return false;
  return clientGrants.some((grant) => grant.client_id === application.client_id && grant.audience === audience && grant.subject_type === 'client');
}
