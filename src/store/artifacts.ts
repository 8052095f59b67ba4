import { randomBytes } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Collection, StoredSecret } from './ports.ts';
import { decodeKey } from '../domain/ids.ts';
import { createSealer, digest, type Sealer } from './sealing.ts';

/** What a backend stores for an artifact: the payload sealed, and the lookup fields it indexes. */
interface StoredArtifact extends AdapterPayload {
  sealed: string;
}

const ARTIFACT_KEY_ID = 'artifacts';

/**
 * The key that seals oidc-provider payloads, made once and kept in the durable store (sealed there by the
 * key-encryption key when one is configured), so that every process shares it.
 */
export function artifactSealer(secrets: Collection<StoredSecret>): () => Promise<Sealer> {
  let loading: Promise<Sealer> | undefined;
  const load = async () => {
    await secrets.insertIfAbsent({ id: ARTIFACT_KEY_ID, value: randomBytes(32).toString('base64') });
    const stored = await secrets.get(ARTIFACT_KEY_ID);
    if (!stored) throw new Error('the artifact key could not be stored');
    return createSealer([decodeKey(stored.value)]);
  };
  return () => {
    loading ??= load().catch((err) => {
      loading = undefined; // a store that was down is asked again next time
      throw err;
    });
    return loading;
  };
}

/**
 * oidc-provider's artifacts as the backends keep them: ids, uids and user codes (which work as bearer secrets: codes,
 * refresh tokens, opaque access tokens, session and interaction ids) only as SHA-256 digests, and the payload sealed
 * (it repeats the id as `jti`, and an interaction holds its session's id). oidc-provider sees the values it stored.
 */
export function protectArtifacts(inner: Adapter, sealer: () => Promise<Sealer>): Adapter {
  const open = async (stored: AdapterPayload | undefined | void): Promise<AdapterPayload | undefined> => {
    if (!stored) return undefined;
    const { sealed, consumed } = stored as StoredArtifact;
    const payload = JSON.parse((await sealer()).open(sealed)) as AdapterPayload;
    return consumed ? { ...payload, consumed } : payload;
  };
  return {
    async upsert(id, payload, expiresIn) {
      const stored: StoredArtifact = {
        sealed: (await sealer()).seal(JSON.stringify(payload)),
        ...(typeof payload.uid === 'string' ? { uid: digest(payload.uid) } : {}),
        ...(typeof payload.userCode === 'string' ? { userCode: digest(payload.userCode) } : {}),
        ...(typeof payload.grantId === 'string' ? { grantId: payload.grantId } : {}),
        ...(payload.consumed ? { consumed: payload.consumed } : {}),
      };
      await inner.upsert(digest(id), stored, expiresIn);
    },
    find: async (id) => open(await inner.find(digest(id))),
    findByUid: async (uid) => open(await inner.findByUid(digest(uid))),
    findByUserCode: async (userCode) => open(await inner.findByUserCode(digest(userCode))),
    consume: (id) => inner.consume(digest(id)),
    destroy: (id) => inner.destroy(digest(id)),
    revokeByGrantId: (grantId) => inner.revokeByGrantId(grantId),
  };
}
