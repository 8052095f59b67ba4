import { Redis } from 'ioredis';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { GRANTABLE_OIDC_MODELS } from '../collections.ts';
import type { EphemeralStore } from '../ports.ts';

export interface RedisStoreOptions {
  url: string;
  /** Namespaces every key, so that several deployments (or test runs) can share one Redis. */
  keyPrefix?: string;
  graceSeconds?: number;
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

export function openRedisStore(options: RedisStoreOptions): RedisStore {
  const client = new Redis(options.url, {
    keyPrefix: options.keyPrefix ?? 'gatehouse:',
    enableAutoPipelining: true,
    maxRetriesPerRequest: 3,
  });
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
      if (!adapter) adapters.set(model, (adapter = new RedisOidcAdapter(redis, model, graceSeconds)));
      return adapter;
    },
    async ping() {
      await client.ping();
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
