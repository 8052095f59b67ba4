import type Provider from 'oidc-provider';
// oidc-provider builds its keystore once, from the `jwks` configuration; this is the function that does it (pinned
// version: docs/ARCHITECTURE.md lists it among the internals we rely on). Called again, it replaces the keystore and
// the published JWKS.
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import type { Logger } from 'pino';
import type { KeyMaterial } from '../domain/model.ts';
import type { Collection } from '../store/ports.ts';
import { providerJwks } from './keys.ts';

/** The signing keys as this process uses them now; they follow the store (a rotation made anywhere) without a restart. */
export interface LiveKeys {
  readonly material: KeyMaterial;
  /** Re-reads the store and applies what changed (the timer does it every `refreshSeconds`). */
  refresh(): Promise<void>;
  stop(): void;
}

/** Keys a host supplies (createGatehouse's `signingKeys`): fixed for the life of the process. */
export const fixedKeys = (material: KeyMaterial): LiveKeys => ({ material, refresh: async () => {}, stop: () => {} });

const fingerprint = (jwks: ReturnType<typeof providerJwks>) => jwks.keys.map((key) => `${key.kid}:${'key_ops' in key ? 'verify' : 'sign'}`).join(',');

/**
 * Keeps oidc-provider's keystore in line with the key material in the store: a staged key is published as soon as any
 * process sees it, and signs in every process from its activation time on (within `refreshSeconds`).
 */
export function watchKeys(options: { keys: Collection<KeyMaterial>; provider: Provider; initial: KeyMaterial; refreshSeconds: number; logger: Logger }): LiveKeys {
  let material = options.initial;
  let applied = fingerprint(providerJwks(material));
  const refresh = async () => {
    material = (await options.keys.get('keys')) ?? material;
    const jwks = providerJwks(material);
    const now = fingerprint(jwks);
    if (now === applied) return;
    initializeKeystore.call(options.provider, jwks);
    applied = now;
    options.logger.info({ keys: now }, 'signing keys changed: now publishing and signing with these');
  };
  const timer = setInterval(() => {
    refresh().catch((err: unknown) => options.logger.warn({ err }, 'could not re-read the signing keys; keeping the current ones'));
  }, options.refreshSeconds * 1000);
  timer.unref();
  return {
    get material() {
      return material;
    },
    refresh,
    stop: () => clearInterval(timer),
  };
}
