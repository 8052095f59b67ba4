import { createPrivateKey, sign } from 'node:crypto';
import { generateSigningKeys } from '../../../src/oidc/keys.ts';
import { hashPassword, verifyPassword } from '../../../src/services/passwords.ts';
import { childArgs, runChild, startChild } from './child.ts';

/**
 * The physical ceilings on one core, in a process of their own: raw signatures of an access-token-sized payload per
 * signing algorithm, and password verifications at the KDF cost GATEHOUSE_PASSWORD_COST selects. Operations are
 * counted per CPU-second of this process, which does one at a time.
 */
const { seconds } = childArgs<{ seconds: number }>();

async function perCpuSecond(operation: () => unknown): Promise<number> {
  const cpuBefore = process.cpuUsage();
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  while (performance.now() < deadline) {
    await operation();
    count += 1;
  }
  const cpu = process.cpuUsage(cpuBefore);
  return count / ((cpu.user + cpu.system) / 1e6);
}

async function main(): Promise<void> {
  const payload = Buffer.from('x'.repeat(300));
  const signatures: Record<string, number> = {};
  for (const jwk of await generateSigningKeys()) {
    const key = createPrivateKey({ key: jwk as never, format: 'jwk' });
    const options = jwk.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
    signatures[jwk.alg] = await perCpuSecond(() => sign('sha256', payload, options));
  }
  const storedHash = await hashPassword('correct-horse-battery-staple');
  const passwordVerifications = await perCpuSecond(() => verifyPassword('correct-horse-battery-staple', storedHash));
  runChild({ signatures, passwordVerifications }, {}, async () => {});
}

startChild(main);
