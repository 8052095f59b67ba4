export default async function globalTeardown(): Promise<void> {
  (globalThis as { __redisProcess?: { kill(): void } }).__redisProcess?.kill();
}
