import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { GRANTABLE_OIDC_MODELS } from '../collections.ts';
import type { EmbeddedEngine } from './engine.ts';

/**
 * oidc-provider models on the embedded engine. Entries live `expiresIn + graceSeconds`, because the provider itself
 * accepts tokens within its clock tolerance.
 */
export class EmbeddedOidcAdapter implements Adapter {
  private readonly table: string;
  private readonly byUid = new Map<string, string>();
  private readonly byUserCode = new Map<string, string>();
  private readonly byGrantId = new Map<string, Set<string>>();

  private readonly engine: EmbeddedEngine;
  private readonly model: string;
  private readonly graceSeconds: number;

  constructor(engine: EmbeddedEngine, model: string, graceSeconds: number) {
    this.engine = engine;
    this.model = model;
    this.graceSeconds = graceSeconds;
    this.table = `oidc:${model}`;
    for (const [id, entry] of engine.table(this.table)) this.index(id, entry.value as AdapterPayload);
    engine.watchExpiry(this.table, (id, payload) => this.unindex(id, payload as AdapterPayload));
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const previous = this.engine.get(this.table, id) as AdapterPayload | undefined;
    if (previous) this.unindex(id, previous);
    const expiresAt = expiresIn ? Date.now() + (expiresIn + this.graceSeconds) * 1000 : undefined;
    this.engine.set(this.table, id, structuredClone(payload), expiresAt);
    this.index(id, payload);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const payload = this.engine.get(this.table, id) as AdapterPayload | undefined;
    return payload && structuredClone(payload);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = this.byUid.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const id = this.byUserCode.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  /** Marks the payload consumed; a second consume throws, so that two racing redemptions never both succeed. */
  async consume(id: string): Promise<void> {
    const entry = this.engine.table(this.table).get(id);
    const payload = this.engine.get(this.table, id) as AdapterPayload | undefined;
    if (!entry || !payload) return;
    if (payload.consumed) throw new errors.InvalidGrant(`${this.model} was already used`); // the loser of a race gets invalid_grant, not a 500
    this.engine.set(this.table, id, { ...payload, consumed: Math.floor(Date.now() / 1000) }, entry.expiresAt);
  }

  async destroy(id: string): Promise<void> {
    const payload = this.engine.get(this.table, id) as AdapterPayload | undefined;
    if (payload) this.unindex(id, payload);
    this.engine.delete(this.table, id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const id of [...(this.byGrantId.get(grantId) ?? [])]) await this.destroy(id);
    this.byGrantId.delete(grantId);
  }

  private index(id: string, payload: AdapterPayload): void {
    if (payload.uid) this.byUid.set(payload.uid, id);
    if (payload.userCode) this.byUserCode.set(payload.userCode, id);
    if (payload.grantId && GRANTABLE_OIDC_MODELS.has(this.model)) {
      let ids = this.byGrantId.get(payload.grantId);
      if (!ids) this.byGrantId.set(payload.grantId, (ids = new Set()));
      ids.add(id);
    }
  }

  private unindex(id: string, payload: AdapterPayload): void {
    if (payload.uid && this.byUid.get(payload.uid) === id) this.byUid.delete(payload.uid);
    if (payload.userCode && this.byUserCode.get(payload.userCode) === id) this.byUserCode.delete(payload.userCode);
    if (payload.grantId) {
      const ids = this.byGrantId.get(payload.grantId);
      ids?.delete(id);
      if (ids?.size === 0) this.byGrantId.delete(payload.grantId);
    }
  }
}
