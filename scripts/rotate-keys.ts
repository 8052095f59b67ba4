/**
 * Rotates the signing keys, in stages, while Gatehouse runs (embedded or MongoDB; every process follows the store within
 * `keys.refresh_seconds`, no restart):
 *   npm run keys:rotate                       new keys, published now, signing after `keys.rotation_lead_seconds`
 *   npm run keys:rotate -- --activate-in 60   the same, signing after 60 seconds
 *   npm run keys:rotate -- --retire           drops the keys older than the ones signing now (once their tokens expired)
 */
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { retireSigningKeys, signingKids } from '../src/domain/signing-keys.ts';
import { ensureKeyMaterial, rotateSigningKeys } from '../src/oidc/keys.ts';
import { openDurableStore, StoreError } from '../src/store/index.ts';

const args = process.argv.slice(2);
const retire = args.includes('--retire');
const activateIn = args.includes('--activate-in') ? Number(args[args.indexOf('--activate-in') + 1]) : undefined;
try {
  if (activateIn !== undefined && !(Number.isInteger(activateIn) && activateIn >= 0)) throw new ConfigError('--activate-in', 'must be a whole number of seconds');
  const config = loadConfig();
  const store = await openDurableStore(config);
  try {
    const current = await ensureKeyMaterial(store.keys);
    const now = Date.now();
    const activatesAt = now + (activateIn ?? config.keys.rotation_lead_seconds) * 1000;
    const next = retire ? retireSigningKeys(current, now) : await rotateSigningKeys(current, activatesAt);
    await store.keys.update('keys', { set: { signing: next.signing } });
    const removed = current.signing.filter((key) => !next.signing.some((k) => k.kid === key.kid));
    const signing = signingKids(next, now);
    const describe = (kids: string[]) => kids.join(', ') || 'none';
    process.stdout.write(retire
      ? `Retired signing keys: ${describe(removed.map((k) => k.kid))}. Signing now: ${describe([...signing])}.\n`
      : `Rotated signing keys. Published now: ${describe(next.signing.filter((k) => !current.signing.includes(k)).map((k) => `${k.alg} ${k.kid}`))}; `
        + `they sign from ${new Date(activatesAt).toISOString()} in every running process (no restart needed).\n`
        + `Published for verification: ${next.signing.length} keys. Run with --retire once tokens signed by the old keys have expired.\n`);
  } finally {
    await store.close();
  }
} catch (err) {
  if (!(err instanceof ConfigError || err instanceof StoreError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
