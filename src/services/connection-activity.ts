import type { Logger } from 'pino';
import type { GatehouseConfig } from '../config/schema.ts';
import { connectionActivityId, lastUse, unusedFor } from '../domain/connection-activity.ts';
import { categoryOf } from '../domain/log-events.ts';
import type { Application, ConnectionActivity, UserGrant } from '../domain/model.ts';
import type { DurableStore } from '../store/ports.ts';
import type { EventObserver } from './audit.ts';
import type { Page, PageRequest } from './entities.ts';

/** How often counted uses are written (src/config/schema.ts, `activity`). */
export type ActivitySettings = GatehouseConfig['activity'];

export interface ActivityRecorder {
  /** Sees every tenant log event; counts the token exchanges made for a user. */
  observe: EventObserver;
  /** Writes what was counted since the last write. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  user_id: string;
  client_id: string;
  audience: string;
  first: string;
  last: string;
  tokens: number;
}

/** Uses counted in memory at most; beyond, new (user, application, API) triples wait for the next write. */
const MAX_PENDING = 50_000;

/**
 * Connection activity, aggregated off the hot path: each token issued for a user adds to a counter in memory (no
 * write per token); every interval one atomic update per (user, application, API) used meanwhile adds the count and
 * moves the last use, so every process adds to the same record.
 */
export function createActivityRecorder(store: DurableStore, settings: ActivitySettings, logger: Logger): ActivityRecorder {
  let pending = new Map<string, Pending>();
  let writing: Promise<void> = Promise.resolve();

  async function write(entries: Map<string, Pending>): Promise<void> {
    for (const [id, use] of entries) {
      const record: ConnectionActivity = {
        id, user_id: use.user_id, client_id: use.client_id, audience: use.audience, first_used_at: use.first, last_used_at: use.last, tokens_issued: use.tokens,
      };
      if (await store.connectionActivity.insertIfAbsent(record)) continue;
      await store.connectionActivity.update(id, { inc: { tokens_issued: use.tokens }, set: { last_used_at: use.last } });
    }
  }

  function flush(): Promise<void> {
    writing = writing.then(async () => {
      if (!pending.size) return;
      const entries = pending;
      pending = new Map();
      try {
        await write(entries);
      } catch (err) {
        logger.warn({ err, uses: entries.size }, 'connection activity could not be written; it is counted again at the next write');
        for (const [id, use] of entries) if (!pending.has(id) && pending.size < MAX_PENDING) pending.set(id, use);
      }
    });
    return writing;
  }

  const timer = setInterval(() => void flush(), settings.flush_interval_ms);
  timer.unref();

  return {
    observe(event) {
      if (categoryOf(event.type) !== 'auth.token_exchange.success' || !event.user_id || !event.client_id || !event.audience) return;
      const id = connectionActivityId(event.user_id, event.client_id, event.audience);
      const use = pending.get(id);
      if (use) {
        use.last = event.date;
        use.tokens += 1;
      } else if (pending.size < MAX_PENDING) {
        pending.set(id, { user_id: event.user_id, client_id: event.client_id, audience: event.audience, first: event.date, last: event.date, tokens: 1 });
      }
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

/** The activity of each consent (same user, application and API), for the Management API and /u/apps. */
export async function activityOfGrants(store: DurableStore, grants: readonly UserGrant[]): Promise<Map<string, ConnectionActivity>> {
  const found = await Promise.all(grants.map((grant) => store.connectionActivity.get(connectionActivityId(grant.user_id, grant.clientID, grant.audience))));
  return new Map(found.flatMap((activity, i) => (activity ? [[grants[i]!.id, activity]] : [])));
}

export interface ApplicationUsage {
  application: Application;
  /** The latest token issued to it, for anyone (its own daily `last_used_at` and its users' activity). */
  last_used_at?: string;
  /** How many consents users have given it (its connections). */
  connections: number;
}

/**
 * Applications by use, Auth0-paged: all of them, or only those unused for `unusedForDays` (no token for that long, and
 * created before that). Reads every application: an operator's question, not a hot path.
 */
export async function listApplicationUsage(store: DurableStore, request: PageRequest & { unusedForDays?: number }, now = Date.now()): Promise<Page<ApplicationUsage>> {
  const usage: ApplicationUsage[] = [];
  for (const application of await store.applications.find()) {
    if (application.registration_type === 'system') continue;
    const activity = await store.connectionActivity.find({ client_id: application.client_id });
    if (request.unusedForDays !== undefined && !unusedFor(application, activity, request.unusedForDays, now)) continue;
    const latest = [application.last_used_at, lastUse(activity)].filter(Boolean).sort().at(-1);
    usage.push({ application, ...(latest ? { last_used_at: latest } : {}), connections: await store.userGrants.count({ clientID: application.client_id }) });
  }
  const start = request.page * request.per_page;
  return {
    items: usage.slice(start, start + request.per_page), start, limit: request.per_page,
    ...(request.include_totals ? { total: usage.length } : {}),
  };
}
