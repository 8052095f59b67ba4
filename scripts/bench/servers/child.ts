import { createServer, type RequestListener, type Server } from 'node:http';
import { Session } from 'node:inspector/promises';

/**
 * What every benchmark server has in common: its arguments (JSON in argv), a loopback listener, a first IPC message
 * saying it is ready, and commands answered over IPC (see ServerProcess in ../lib/processes.ts).
 */
export const childArgs = <T>(): T => JSON.parse(process.argv[2] ?? '{}') as T;

/** Listens on an ephemeral loopback port first, so that the issuer URL (which names the port) is known before the app is built. */
export async function listenOnLoopback(): Promise<{ server: Server; port: number; origin: string; serve(handler: RequestListener): void }> {
  const server = createServer();
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, port, origin: `http://127.0.0.1:${port}`, serve: (handler) => server.on('request', handler) };
}

type Command = (args: never) => Promise<unknown> | unknown;

/**
 * Sends the ready message, answers commands (`memory`, the heap and RSS after a GC, and the child's own), and stops on
 * SIGTERM (or when the parent goes away).
 */
export function runChild(ready: unknown, ownCommands: Record<string, Command>, close: () => Promise<void>): void {
  const commands: Record<string, Command> = { memory: memoryAfterGc, ...profilerCommands(), ...ownCommands };
  const stop = () => {
    close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  process.on('message', (message: { id: number; command: string; args: never }) => {
    const command = commands[message.command];
    Promise.resolve()
      .then(() => {
        if (!command) throw new Error(`unknown command ${message.command}`);
        return command(message.args);
      })
      .then((result) => process.send?.({ id: message.id, result }))
      .catch((err: Error) => process.send?.({ id: message.id, error: err.stack ?? err.message }));
  });
  process.send?.({ ready });
}

/** Starts a child, or tells the parent why it could not. */
export function startChild(main: () => Promise<void>): void {
  main().catch((err: Error) => {
    process.send?.({ error: err.stack ?? err.message });
    process.exit(1);
  });
}

/**
 * Heap and RSS after V8's most thorough collection (children run with --expose-gc when memory is measured). The
 * `last-resort` flavour also shrinks the young generation and hands back the pages V8 pools: after a load, an ordinary
 * full collection left 0 to 300 MiB of those resident, at random (a server read 440 or 650 MiB from one run to the next).
 */
export function memoryAfterGc(): NodeJS.MemoryUsage {
  (globalThis as { gc?: (options: { type: string; execution: string; flavor: string }) => void }).gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return process.memoryUsage();
}

/** Sampling interval of `profile_start`: fine enough for functions of a few µs per request, at a few % of overhead. */
const PROFILE_INTERVAL_MICROS = 250;

/**
 * `profile_start` and `profile_stop` (which answers the V8 CPU profile of the main thread in between), so that a
 * profile covers exactly a measured run, not the start-up and warm-up around it.
 */
function profilerCommands(): Record<string, Command> {
  // Connected at the first profile only: the other scenarios' servers run without an inspector session.
  let session: Session | undefined;
  return {
    profile_start: async () => {
      if (!session) {
        session = new Session();
        session.connect();
      }
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: PROFILE_INTERVAL_MICROS });
      await session.post('Profiler.start');
      return true;
    },
    profile_stop: async () => {
      if (!session) throw new Error('profile_stop before profile_start');
      const { profile } = await session.post('Profiler.stop');
      await session.post('Profiler.disable');
      return profile;
    },
  };
}
