import CachePolicy from 'http-cache-semantics';
import type { Logger } from 'pino';
import {
  CIMD_LIMITS, cimdApplicationDraft, clientAuthenticationMethods, clientIdUrlProblem, documentLifetimeSeconds, mergePublishedKeys,
  readClientMetadataDocument, readPublishedKeys, refreshedCimdApplication, type CimdDocument, type CimdMappedFields, type CimdValidation,
} from '../domain/client-id-metadata.ts';
import { invalidBody } from '../domain/errors.ts';
import type { Application, PublicJwk } from '../domain/model.ts';
import { isExemptHost, type OutboundExemptions } from '../domain/outbound-addresses.ts';
import { claimedIdentities } from '../domain/registration.ts';
import { initialTrust } from '../domain/trust.ts';
import { fetchPublicDocument, PublicFetchError } from '../net/public-fetch.ts';
import type { DurableStore } from '../store/ports.ts';
import type { ApplicationLookup } from './application-directory.ts';
import { issueApplication } from './applications.ts';
import { recordEvent } from './audit.ts';
import { editEntity, missing, now } from './entities.ts';
import type { SelfRegistrationBudgets } from './self-registration.ts';
import { readTenantSettings } from './tenant.ts';

/** How long fetching a document (or its keys) may take, from the name lookup to the last byte. */
export const CIMD_FETCH_TIMEOUT_MS = 5000;

/**
 * A client id URL that cannot be used now: its document could not be fetched (`unavailable`), was fetched but breaks a
 * rule (`invalid`), or a new application for it is not admitted now (`refused`: registration budgets). Nothing about a
 * failure is kept: the next request fetches again.
 */
export class MetadataDocumentError extends Error {
  readonly url: string;
  readonly kind: 'unavailable' | 'invalid' | 'refused';
  readonly problems: readonly string[];
  constructor(url: string, kind: MetadataDocumentError['kind'], problems: readonly string[]) {
    super(`the client metadata document ${url} ${kind === 'unavailable' ? 'could not be fetched' : kind === 'invalid' ? 'cannot be used' : 'is not admitted now'}: ${problems.join('; ')}`);
    this.url = url;
    this.kind = kind;
    this.problems = problems;
  }
}

/** What a fetch found: the document checked (and its keys), or why it could not be fetched. */
type Description =
  | { fetched: false; errors: string[] }
  | { fetched: true; validation: CimdValidation; document?: CimdDocument; keys?: PublicJwk[]; lifetimeSeconds: number };

/**
 * How fresh an application's document must be. `authorization`: a stale one is fetched again, and a failure stops the
 * authorization; `tokens`: a stale one is fetched again, and on failure the last valid document is used (a vendor's brief
 * outage must not end every connection); `stored`: never fetched (pages shown during an authorization).
 */
export type Freshness = 'authorization' | 'tokens' | 'stored';

export interface ResolveRequest {
  freshness: Freshness;
  /** Who is asking (the person's browser, at the authorization endpoint): counted like a registration attempt. */
  address?: string;
}

export interface CimdServiceOptions {
  store: DurableStore;
  lookup: ApplicationLookup;
  budgets: SelfRegistrationBudgets;
  exemptions: OutboundExemptions;
  logger: Logger;
}

/** Auth0's preview and register answers share this: what the document maps to, and how it fared. */
export interface CimdReport {
  mapped_fields?: CimdMappedFields;
  validation?: CimdValidation;
  errors?: string[];
}

/**
 * Client ID Metadata Documents: fetching and checking a document and its keys, keeping each client as a strict
 * third-party application (a `tpc_` id, `external_client_id` = its URL), and fetching it again when its cache lifetime
 * ends. The application directory resolves URL client ids here; the Management API previews and registers through it.
 * Creating an application is where audit events belong (`registerByAdministrator`, and `created` in `resolve`).
 */
export function clientMetadataDocuments(options: CimdServiceOptions) {
  const { store, lookup, budgets, exemptions, logger } = options;
  const urlProblem = (url: string) => clientIdUrlProblem(url, (host) => isExemptHost(exemptions, host));
  const inFlight = new Map<string, Promise<Application | undefined>>();

  async function fetchJson(url: string, maxBytes: number): Promise<{ json: unknown; headers: Record<string, string | string[] | undefined> }> {
    const { body, headers } = await fetchPublicDocument(new URL(url), { maxBytes, timeoutMs: CIMD_FETCH_TIMEOUT_MS, exemptions, accept: 'application/json' });
    try {
      return { json: JSON.parse(body.toString('utf8')), headers };
    } catch {
      throw new PublicFetchError('the answer is not JSON');
    }
  }

  /** Fetches and checks a document (see `fetchAndCheck`), and records the fetch in the tenant log. */
  async function describe(url: string, acceptedKeys: readonly PublicJwk[] = []): Promise<Description> {
    const description = await fetchAndCheck(url, acceptedKeys);
    const problems = description.fetched ? description.validation.violations : description.errors;
    if (description.fetched && description.validation.valid) recordEvent('cimd_fetch_succeeded', { details: { external_client_id: url } });
    else recordEvent('cimd_fetch_failed', { description: problems.join('; '), details: { external_client_id: url, fetched: description.fetched } });
    return description;
  }

  /** Fetches and checks a document, then (for `private_key_jwt`) its keys, merged with the keys accepted before. */
  async function fetchAndCheck(url: string, acceptedKeys: readonly PublicJwk[]): Promise<Description> {
    let fetched;
    try {
      fetched = await fetchJson(url, CIMD_LIMITS.documentBytes);
    } catch (err) {
      if (err instanceof PublicFetchError) return { fetched: false, errors: [`${url}: ${err.message}`] };
      throw err;
    }
    const policy = new CachePolicy({ url, method: 'GET', headers: { accept: 'application/json' } }, { status: 200, headers: fetched.headers }, { shared: false });
    const lifetimeSeconds = documentLifetimeSeconds(policy.timeToLive() / 1000);
    const { validation, document } = readClientMetadataDocument(url, fetched.json);
    const jwksUri = document?.mapped.jwks_uri;
    if (!document || !jwksUri) return { fetched: true, validation, ...(document ? { document } : {}), lifetimeSeconds };

    let published;
    try {
      published = readPublishedKeys((await fetchJson(jwksUri, CIMD_LIMITS.jwksBytes)).json);
    } catch (err) {
      if (err instanceof PublicFetchError) return { fetched: false, errors: [`${jwksUri}: ${err.message}`] };
      throw err;
    }
    const merged = mergePublishedKeys(acceptedKeys, published.keys);
    const checked: CimdValidation = {
      valid: validation.valid && !published.violations.length,
      violations: [...validation.violations, ...published.violations.map((v) => `jwks_uri: ${v}`)],
      warnings: [...validation.warnings, ...[...published.warnings, ...merged.warnings].map((w) => `jwks_uri: ${w}`)],
    };
    return { fetched: true, validation: checked, ...(checked.valid ? { document, keys: merged.keys } : {}), lifetimeSeconds };
  }

  const report = (description: Description): CimdReport => {
    if (!description.fetched) return { errors: description.errors };
    const { document, keys, validation } = description;
    const mapped = document && {
      ...document.mapped,
      ...(keys ? { client_authentication_methods: clientAuthenticationMethods(keys, document.assertionAlg) } : {}),
    };
    return { ...(mapped ? { mapped_fields: mapped } : {}), validation };
  };

  /** The description, or the error a request using it meets. */
  function usable(url: string, description: Description): Extract<Description, { fetched: true }> & { document: CimdDocument } {
    if (!description.fetched) throw new MetadataDocumentError(url, 'unavailable', description.errors);
    if (!description.document) throw new MetadataDocumentError(url, 'invalid', description.validation.violations);
    return description as Extract<Description, { fetched: true }> & { document: CimdDocument };
  }

  const expiry = (lifetimeSeconds: number) => new Date(Date.now() + lifetimeSeconds * 1000).toISOString();
  const stale = (app: Application) => app.external_metadata_created_by === 'client' && (!app.external_metadata_expires_at || Date.parse(app.external_metadata_expires_at) <= Date.now());

  async function refresh(app: Application, expires: boolean, fetched?: Description): Promise<Application> {
    const url = app.external_client_id as string;
    const { document, keys, lifetimeSeconds } = usable(url, fetched ?? await describe(url, app.jwks?.keys));
    const expiresAt = expires ? expiry(lifetimeSeconds) : undefined;
    return editEntity(store.applications, app.client_id, missing('inexistent_client', `The client ${app.client_id} does not exist`),
      (existing) => refreshedCimdApplication(existing, document, keys, expiresAt, now()));
  }

  /** First use of a URL: a new client-created application, counted like a registration, at the trust the tenant decides. */
  async function create(url: string, address: string | undefined): Promise<Application | undefined> {
    const { document, keys, lifetimeSeconds } = usable(url, await describe(url));
    const settings = await readTenantSettings(store);
    const attempt = address === undefined ? undefined : await budgets.countAttempt(address);
    if (attempt && !attempt.tenant.allowed) throw new MetadataDocumentError(url, 'refused', [`too many new applications at once: try again in ${attempt.tenant.resetSeconds} s`]);
    if (await budgets.capReached(store)) throw new MetadataDocumentError(url, 'refused', [`this service keeps at most ${budgets.maxApplications} self-registered applications`]);
    const pendingDraft = cimdApplicationDraft(document, keys, { createdBy: 'client', trust: 'pending', expiresAt: expiry(lifetimeSeconds) }, now());
    const identityOver = await budgets.countNewApplication(claimedIdentities(pendingDraft));
    const overBudget = identityOver?.limit ?? attempt?.addressOverBudget;
    if (overBudget && settings.self_registered_clients.over_budget === 'refuse') {
      throw new MetadataDocumentError(url, 'refused', [`too many new applications ${identityOver ? `for ${identityOver.identity}` : 'from this address'}: try again in ${overBudget.resetSeconds} s`]);
    }
    const trust = initialTrust({ path: 'client_id_metadata_document', cimdUrl: url, redirectUris: document.mapped.callbacks }, settings.self_registered_clients, Boolean(overBudget));
    try {
      const { application } = await issueApplication(store, { ...pendingDraft, trust });
      logger.info({ client_id: application.client_id, external_client_id: url, trust, ...(address ? { ip: address } : {}) }, 'client metadata document: new application');
      recordEvent('cimd_client_registered', { client_id: application.client_id, client_name: application.name, details: { external_client_id: url, created_by: 'client', trust } });
      return application;
    } catch (err) {
      const concurrent = await lookup({ external_client_id: url }); // first used by two requests at once: one application
      if (concurrent) return concurrent;
      throw err;
    }
  }

  /** Runs one fetch per URL at a time in this process; requests for the same URL meanwhile share its outcome. */
  function once(url: string, work: () => Promise<Application | undefined>): Promise<Application | undefined> {
    const running = inFlight.get(url);
    if (running) return running;
    const started = work().finally(() => inFlight.delete(url));
    inFlight.set(url, started);
    return started;
  }

  return {
    urlProblem,

    /**
     * The application a client id URL names. Imported by an administrator: kept as imported (fetched again only through
     * the Management API), and usable whatever the tenant flag. Created by the client on first use: only while the
     * tenant supports metadata documents, fetched again when its cache lifetime ends.
     */
    async resolve(url: string, request: ResolveRequest): Promise<Application | undefined> {
      const existing = await lookup({ external_client_id: url });
      if (existing?.external_metadata_created_by === 'admin') return existing;
      if (!(await readTenantSettings(store)).client_id_metadata_document_supported) return undefined;
      if (existing) {
        if (!stale(existing) || request.freshness === 'stored') return existing;
        return once(url, async () => {
          try {
            return await refresh(existing, true);
          } catch (err) {
            if (!(err instanceof MetadataDocumentError) || request.freshness === 'authorization') throw err;
            logger.warn({ client_id: existing.client_id, external_client_id: url, problems: err.problems }, 'client metadata document: fetching again failed, the last valid one is used');
            return existing;
          }
        });
      }
      if (request.freshness !== 'authorization') return undefined;
      const problem = urlProblem(url);
      if (problem) throw new MetadataDocumentError(url, 'invalid', [`the client id ${problem}`]);
      return once(url, () => create(url, request.address));
    },

    /** Auth0's preview: fetches and checks a document, creating nothing. */
    async preview(url: string): Promise<CimdReport & { client_id?: string }> {
      const problem = urlProblem(url);
      if (problem) throw invalidBody(`external_client_id ${problem}`);
      const existing = await lookup({ external_client_id: url });
      return { ...(existing ? { client_id: existing.client_id } : {}), ...report(await describe(url, existing?.jwks?.keys)) };
    },

    /**
     * Auth0's register: an idempotent upsert by URL. A new application is imported by the administrator (trusted, never
     * fetched again on its own); an existing one is brought in line with its document fetched now. `authorize` is told
     * which of the two it is before anything is fetched, and throws to stop it.
     */
    async registerByAdministrator(url: string, authorize: (creating: boolean) => void): Promise<{ created: boolean; application: Application; report: CimdReport }> {
      const problem = urlProblem(url);
      if (problem) throw invalidBody(`external_client_id ${problem}`);
      const existing = await lookup({ external_client_id: url });
      authorize(!existing);
      const description = await describe(url, existing?.jwks?.keys);
      if (!description.fetched) throw invalidBody(`The client metadata document could not be fetched: ${description.errors.join('; ')}`);
      if (!description.document) throw invalidBody(`The client metadata document cannot be used: ${description.validation.violations.join('; ')}`);
      if (existing) {
        const application = await refresh(existing, existing.external_metadata_created_by === 'client', description);
        return { created: false, application, report: report(description) };
      }
      const draft = cimdApplicationDraft(description.document, description.keys, { createdBy: 'admin', trust: 'trusted' }, now());
      const { application } = await issueApplication(store, draft);
      logger.info({ client_id: application.client_id, external_client_id: url }, 'client metadata document: application imported');
      recordEvent('cimd_client_registered', { client_id: application.client_id, client_name: application.name, details: { external_client_id: url, created_by: 'admin', trust: 'trusted' } });
      return { created: true, application, report: report(description) };
    },
  };
}

export type ClientMetadataDocuments = ReturnType<typeof clientMetadataDocuments>;
