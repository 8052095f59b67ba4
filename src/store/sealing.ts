import { createCipheriv, createDecipheriv, createSecretKey, hash, type KeyObject } from 'node:crypto';
import { pooledRandomBytes } from '../domain/ids.ts';

/** AES-256-GCM with a ring of keys: the first seals, any opens (so that a key can be replaced without losing data). */
export interface Sealer {
  seal(plaintext: string): string;
  open(sealed: string): string;
  /** Whether a value was sealed with the first key (else it should be sealed again). */
  sealedWithCurrentKey(sealed: string): boolean;
}

const keyId = (key: Buffer) => hash('sha256', key, 'hex').slice(0, 8);

export class SealingKeyError extends Error {}

export function createSealer(keys: readonly Buffer[]): Sealer {
  if (!keys.length) throw new SealingKeyError('a sealer needs at least one key');
  // Key objects made once: handed a Buffer, every cipher makes one again (two thirds of a seal and an open: 26 -> 8 µs).
  const ring = new Map(keys.map((key) => [keyId(key), createSecretKey(key)]));
  const currentId = keyId(keys[0] as Buffer);
  const current = ring.get(currentId) as KeyObject;
  return {
    seal(plaintext) {
      const iv = pooledRandomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      // Handed bytes, not a string: the cipher's own string decoding made a seal a fifth slower (4.6 -> 3.6 µs).
      const body = Buffer.concat([cipher.update(Buffer.from(plaintext, 'utf8')), cipher.final(), cipher.getAuthTag()]);
      return `${currentId}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(sealed) {
      const [id, iv, body] = sealed.split('.');
      const key = id === undefined ? undefined : ring.get(id);
      if (!key || !iv || !body) throw new SealingKeyError(`sealed with a key that is not configured (key id ${id})`);
      const bytes = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      const plaintext = decipher.update(bytes.subarray(0, bytes.length - 16));
      decipher.final(); // checks the tag; GCM returns every byte from update, nothing from final
      return plaintext.toString('utf8');
    },
    sealedWithCurrentKey: (sealed) => sealed.startsWith(`${currentId}.`),
  };
}

/**
 * A SHA-256 digest (base64url): how ids that work as bearer secrets are stored. One-shot `hash` (a third of the cost
 * of a Hash object, several times per request).
 */
export const digest = (value: string) => hash('sha256', value, 'base64url');
