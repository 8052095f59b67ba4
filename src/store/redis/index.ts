import { once } from 'node:events';
import { Redis } from 'ioredis';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Logger } from 'pino';
import { GRANTABLE_OIDC_MODELS } from '../collections.ts';
import { mapAdapterErrors, StoreUnavailableError, type OutageLogger } from '../errors.ts';
import type { EphemeralStore } from '../ports.ts';

export interface RedisStoreOptions {
  url: string;
  /** Namespaces every key, so that several deployments (or test runs) can share one Redis. */
  keyPrefix?: string;
  graceSeconds?: number;
  /** Told once when Redis becomes unreachable and once when it is back (never once per failed request). */
  logger?: OutageLogger;
}

export type RedisStore = EphemeralStore & { readonly kind: 'redis'; readonly client: Redis };

interface ConsumeCommand {
  consumeOnce(key: string, consumedAt: number): Promise<number>;
}

/**
 * oidc-provider models in Redis. Each payload is a hash (`payload`, `consumed`) so that consumption is one atomic
 * HSETNX; secondary indexes (`uid`, `userCode`, grant membership) expire with what they point at.
 */
class RedisOidcAdapter implements Adapter {
  private readonly redis: Redis & ConsumeCommand;
  private readonly model: string;
  private readonly graceSeconds: number;
  constructor(redis: Redis & ConsumeCommand, model: string, graceSeconds: number) {
    this.redis = redis;
    this.model = model;
    this.graceSeconds = graceSeconds;
  }

  private key(id: string) {
    return `oidc:${this.model}:${id}`;
  }

  private indexKey(kind: 'uid' | 'userCode' | 'grant', value: string) {
    return `oidc:${this.model}:${kind}:${value}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    const ttl = expiresIn ? expiresIn + this.graceSeconds : 0;
    const multi = this.redis.multi().del(key).hset(key, 'payload', JSON.stringify(payload));
    if (ttl) multi.expire(key, ttl);
    for (const kind of ['uid', 'userCode'] as const) {
      const value = payload[kind];
      if (typeof value !== 'string') continue;
      if (ttl) multi.set(this.indexKey(kind, value), id, 'EX', ttl);
      else multi.set(this.indexKey(kind, value), id);
    }
    if (payload.grantId && GRANTABLE_OIDC_MODELS.has(this.model)) {
      const grantKey = this.indexKey('grant', payload.grantId);
      multi.sadd(grantKey, id);
      // A new set takes the member's TTL (NX); an existing one keeps the longest-lived member's (GT).
      if (ttl) multi.expire(grantKey, ttl, 'NX').expire(grantKey, ttl, 'GT');
    }
    await multi.exec();
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const [payload, consumed] = await this.redis.hmget(this.key(id), 'payload', 'consumed');
    if (!payload) return undefined;
    const parsed = JSON.parse(payload) as AdapterPayload;
    return consumed ? { ...parsed, consumed: Number(consumed) } : parsed;
  }

  private async findBy(kind: 'uid' | 'userCode', value: string): Promise<AdapterPayload | undefined> {
    const id = await this.redis.get(this.indexKey(kind, value));
    return id ? this.find(id) : undefined;
  }

  findByUid(uid: string) {
    return this.findBy('uid', uid);
  }

  findByUserCode(userCode: string) {
    return this.findBy('userCode', userCode);
  }

  async consume(id: string): Promise<void> {
    const result = await this.redis.consumeOnce(this.key(id), Math.floor(Date.now() / 1000));
    if (result === 0) throw new errors.InvalidGrant(`${this.model} was already used`); // the loser of a race gets invalid_grant, not a 500
  }

  async destroy(id: string): Promise<void> {
    const payload = await this.find(id);
    const keys = [this.key(id)];
    if (typeof payload?.uid === 'string') keys.push(this.indexKey('uid', payload.uid));
    if (typeof payload?.userCode === 'string') keys.push(this.indexKey('userCode', payload.userCode));
    await this.redis.del(...keys);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const grantKey = this.indexKey('grant', grantId);
    const ids = await this.redis.smembers(grantKey);
    await this.redis.del(grantKey, ...ids.map((id) => this.key(id)));
  }
}

/** Reconnection attempts come at most this far apart while Redis is away: also what `Retry-After` tells clients. */
const RECONNECT_MAX_DELAY_MS = 2000;
/** Redis answers in well under a millisecond; a command still unanswered after this means Redis is hung or unreachable. */
const COMMAND_TIMEOUT_MS = 500;
/** How long opening the store waits for Redis (a process starting beside its Redis gets that long). */
const OPEN_TIMEOUT_MS = 10_000;

/**
 * Opens the connection and waits until Redis answers. While Redis is away afterwards, commands fail at once instead
 * of queueing (no offline queue, no retries per command, a short command timeout): every failure of the adapter
 * becomes a StoreUnavailableError, which the HTTP edges answer with 503 and Retry-After.
 */
export async function openRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const client = new Redis(options.url, {
    keyPrefix: options.keyPrefix ?? 'gatehouse:',
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 100, RECONNECT_MAX_DELAY_MS),
  });
  const where = `Redis at ${client.options.host}:${client.options.port}`; // never the URL: it may carry a password
  const retryAfterSeconds = Math.ceil(RECONNECT_MAX_DELAY_MS / 1000);
  /** `opening` until Redis first answers; `lost` from a lost connection or a timeout until it answers again. */
  let state: 'opening' | 'up' | 'lost' | 'closing' = 'opening';
  let lastError: Error | undefined;
  const lose = (cause: Error | undefined) => {
    lastError = cause ?? lastError;
    if (state !== 'up') return; // told once, and never for a connection closed on purpose
    state = 'lost';
    options.logger?.warn({ err: lastError }, `${where} is unreachable: requests that need it answer 503 until it is back; rate limits count in each process meanwhile`);
  };
  // Without an 'error' listener ioredis prints every failed reconnection attempt on stderr.
  client.on('error', (err: Error) => {
    lastError = err;
  });
  client.on('close', () => lose(undefined));
  client.on('ready', () => {
    if (state === 'lost') options.logger?.info(`${where} is reachable again`);
    state = 'up';
    lastError = undefined;
  });
  /**
   * Every failure from a lost connection until Redis answers again is an outage. A command timeout (ioredis's own
   * message) means a hung Redis: the connection is dropped and reopened, so that until Redis answers its ready check
   * again commands fail at once instead of each waiting for its timeout.
   */
  const asOutage = (err: unknown) => {
    if ((err as Error)?.message === 'Command timed out' && state === 'up') {
      lose(new Error(`no answer within ${COMMAND_TIMEOUT_MS} ms`));
      client.disconnect(true);
    }
    if (state === 'up' && client.status === 'ready') return err;
    return new StoreUnavailableError(`${where} is unreachable (${lastError?.message ?? 'connection lost'})`, retryAfterSeconds, { cause: err });
  };

  const opened = await Promise.race([
    once(client, 'ready').then(() => true),
    new Promise<false>((resolve) => setTimeout(resolve, OPEN_TIMEOUT_MS, false).unref()),
  ]);
  if (!opened) {
    state = 'closing';
    client.disconnect();
    throw new StoreUnavailableError(`${where} did not answer within ${OPEN_TIMEOUT_MS / 1000} s (${lastError?.message ?? 'no answer'}): start it, or correct REDIS_URL`, retryAfterSeconds);
  }
  client.defineCommand('consumeOnce', {
    numberOfKeys: 1,
    lua: "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end return redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1])",
  });
  const redis = client as Redis & ConsumeCommand;
  const graceSeconds = options.graceSeconds ?? 15;
  const adapters = new Map<string, Adapter>();
  return {
    kind: 'redis',
    client,
    oidcAdapter(model: string): Adapter {
      let adapter = adapters.get(model);
      if (!adapter) adapters.set(model, (adapter = mapAdapterErrors(new RedisOidcAdapter(redis, model, graceSeconds), asOutage)));
      return adapter;
    },
    async ping() {
      await client.ping().catch((err: unknown) => {
        throw asOutage(err);
      });
    },
    async close() {
      state = 'closing';
      await client.quit().catch(() => client.disconnect());
    },
  };
}
