import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { GRANTABLE_OIDC_MODELS } from '../collections.ts';
import type { EmbeddedDatabase } from './database.ts';

interface Row {
  payload: string;
  consumed: number | null;
}

const LIVE = '(expires_at IS NULL OR expires_at > ?)';
// The statements' text built once: a template literal per call is a new string, hashed again to find its statement.
const UPSERT = 'INSERT INTO oidc (model, id, payload, expires_at, consumed, uid, user_code, grant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) '
  + 'ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at, consumed = excluded.consumed, '
  + 'uid = excluded.uid, user_code = excluded.user_code, grant_id = excluded.grant_id';
const FIND_BY = (column: string) => `SELECT payload, consumed FROM oidc WHERE model = ? AND ${column} = ? AND ${LIVE}`;
const FIND = FIND_BY('id');
const FIND_BY_UID = FIND_BY('uid');
const FIND_BY_USER_CODE = FIND_BY('user_code');
const CONSUME = `UPDATE oidc SET consumed = ? WHERE model = ? AND id = ? AND consumed IS NULL AND ${LIVE}`;

/**
 * oidc-provider models in the `oidc` table. Entries live `expiresIn + graceSeconds`, because the provider itself accepts
 * tokens within its clock tolerance; expired rows are invisible at once and swept by the store.
 */
export class EmbeddedOidcAdapter implements Adapter {
  private readonly database: EmbeddedDatabase;
  private readonly model: string;
  private readonly graceSeconds: number;

  constructor(database: EmbeddedDatabase, model: string, graceSeconds: number) {
    this.database = database;
    this.model = model;
    this.graceSeconds = graceSeconds;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const expiresAt = expiresIn ? Date.now() + (expiresIn + this.graceSeconds) * 1000 : null;
    const grantId = payload.grantId && GRANTABLE_OIDC_MODELS.has(this.model) ? payload.grantId : null;
    await this.database.run(UPSERT, this.model, id, JSON.stringify(payload), expiresAt, payload.consumed ?? null, payload.uid ?? null, payload.userCode ?? null, grantId);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.payloadOf(this.database.query(FIND).get(this.model, id, Date.now()));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.payloadOf(this.database.query(FIND_BY_UID).get(this.model, uid, Date.now()));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.payloadOf(this.database.query(FIND_BY_USER_CODE).get(this.model, userCode, Date.now()));
  }

  /** Marks the payload consumed; a second consume throws, so that two racing redemptions never both succeed. */
  async consume(id: string): Promise<void> {
    const now = Date.now();
    const { changes } = await this.database.run(CONSUME, Math.floor(now / 1000), this.model, id, now);
    if (changes === 0 && (await this.find(id))) throw new errors.InvalidGrant(`${this.model} was already used`); // the loser of a race gets invalid_grant, not a 500
  }

  async destroy(id: string): Promise<void> {
    await this.database.run('DELETE FROM oidc WHERE model = ? AND id = ?', this.model, id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.database.run('DELETE FROM oidc WHERE model = ? AND grant_id = ?', this.model, grantId);
  }

  private payloadOf(row: unknown): AdapterPayload | undefined {
    if (!row) return undefined;
    const { payload, consumed } = row as Row;
    const parsed = JSON.parse(payload) as AdapterPayload;
    return consumed ? { ...parsed, consumed } : parsed;
  }
}

const SWEEP_BATCH = 1000;

/** Deletes expired artifacts a batch at a time, yielding between batches so that requests are not held up. */
export async function sweepExpired(database: EmbeddedDatabase, now = Date.now()): Promise<number> {
  let removed = 0;
  for (;;) {
    const { changes } = await database.run('DELETE FROM oidc WHERE (model, id) IN (SELECT model, id FROM oidc WHERE expires_at <= ? LIMIT ?)', now, SWEEP_BATCH);
    removed += Number(changes);
    if (Number(changes) < SWEEP_BATCH) return removed;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
