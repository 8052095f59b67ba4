/**
 * Rotates the signing keys: `npm run keys:rotate` adds new keys that sign from the next start on, keeping the old ones
 * published so that tokens they signed still verify; `npm run keys:rotate -- --retire` removes all but the newest keys
 * (run it once the old tokens have expired). Restart every Gatehouse process afterwards.
 * It opens the durable store beside a running Gatehouse (embedded or MongoDB).
 */
import { loadConfig } from '../src/config/load.ts';
import { ensureKeyMaterial, retireOldSigningKeys, rotateSigningKeys } from '../src/oidc/keys.ts';
import { openDurableStore } from '../src/store/index.ts';

const retire = process.argv.includes('--retire');
const config = loadConfig();
const store = await openDurableStore(config);
try {
  const current = await ensureKeyMaterial(store.keys);
  const next = retire ? retireOldSigningKeys(current) : await rotateSigningKeys(current);
  await store.keys.update('keys', { set: { signing: next.signing } });
  const removed = current.signing.filter((key) => !next.signing.some((k) => k.kid === key.kid));
  process.stdout.write(`${retire ? 'Retired' : 'Rotated'} signing keys. Signing now (after restart): ${next.signing.slice(0, 2).map((k) => `${k.alg} ${k.kid}`).join(', ')}\n`
    + `Published for verification: ${next.signing.length} keys${removed.length ? `; removed: ${removed.map((k) => k.kid).join(', ')}` : ''}.\n`
    + 'Restart every Gatehouse process to apply.\n');
} finally {
  await store.close();
}
