import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import express, { type RequestHandler } from 'express';
import { ConfigError, loadConfig } from './config/load.ts';
import { createGatehouse } from './gatehouse.ts';
import { createLogger } from './http/logging.ts';
import { listenForMetrics } from './http/metrics.ts';
import { issuerUrl } from './domain/issuer.ts';
import { managementAudience } from './domain/system-api.ts';
import { StoreError, StoreUnavailableError } from './store/index.ts';

/** Stops the process with a message for the operator (never a stack trace) and a non-zero status. */
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function bindFailure(err: NodeJS.ErrnoException, port: number): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `Port ${port} is already in use by another process. Stop that process, or set PORT to a free port.`;
    case 'EACCES':
      return `Port ${port} needs privileges this process does not have. Set PORT to a port above 1023 (with a proxy in front), or grant the right to bind it.`;
    default:
      return `Could not listen on port ${port} (${err.code ?? err.message}). Set PORT to a port this machine can listen on.`;
  }
}

/**
 * The port is bound before anything else happens: opening the stores writes to the data folder (its lock, the
 * databases) and the first start creates the admin application, whose secret is shown once. A taken port must stop
 * the process before any of that, rather than leave a secret printed for a process that never served.
 */
function listen(port: number, listener: RequestListener): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(listener);
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * Graceful shutdown: from the signal on, every response asks its client to close the connection (requests in flight
 * included), so that kept-alive connections end with their last response instead of carrying new requests to a
 * process that is stopping. Idle connections are closed by the caller (server.close).
 */
function connectionDrain() {
  let draining = false;
  const inFlight = new Set<ServerResponse>();
  const closeAfterResponse = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };
  const middleware: RequestHandler = (_req, res, next) => {
    if (draining) closeAfterResponse(res);
    else {
      inFlight.add(res);
      res.once('close', () => inFlight.delete(res));
    }
    next();
  };
  return {
    middleware,
    start() {
      draining = true;
      for (const res of inFlight) closeAfterResponse(res);
      inFlight.clear();
    },
  };
}

/** The drop-in IdP: one process serving Gatehouse at the issuer root. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const logger = createLogger(config.logLevel);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  const drain = connectionDrain();
  app.use(drain.middleware);
  let started = false;
  // Between the bind and the end of start-up (seconds at most), requests are told to come back.
  app.use((_req, res, next) => (started ? next() : void res.status(503).set('Retry-After', '1').json({ status: 'starting' })));
  const server = await listen(config.port, app).catch((err: NodeJS.ErrnoException) => fail(bindFailure(err, config.port)));

  logger.info({ node: process.version, env: config.env, issuer: config.issuer }, 'Gatehouse starting');
  // Storage that cannot be used (damaged, sealed with another key…) or reached (Redis down, a wrong REDIS_URL) stops the
  // process with its own words.
  const gatehouse = await createGatehouse({ config, logger })
    .catch((err: unknown) => (err instanceof StoreError || err instanceof StoreUnavailableError ? fail(err.message) : Promise.reject(err)));
  const { stores } = gatehouse;
  logger.info({ durable: stores.durable.kind, ephemeral: stores.ephemeral.kind }, 'storage ready');
  if (!stores.shareable && (config.mongodbUri || config.redisUrl)) {
    logger.warn('Only one of MONGODB_URI and REDIS_URL is set: part of the state lives in this process, so run a single Gatehouse process.');
  }
  app.use(gatehouse.router);
  started = true;

  const address = server.address();
  logger.info({ port: typeof address === 'object' && address ? address.port : config.port, discovery: issuerUrl(config.issuer, '.well-known/openid-configuration') }, 'Gatehouse listening');
  const { client_id, client_secret } = gatehouse.adminCredentials;
  if (client_secret) {
    // Printed once, on the terminal only (never through the logger): the secret is stored hashed and cannot be shown again.
    process.stdout.write(`\nA Management API application was created for you. Save its secret now; it will not be shown again.\n`
      + `  GATEHOUSE_ADMIN_CLIENT_ID=${client_id}\n  GATEHOUSE_ADMIN_CLIENT_SECRET=${client_secret}\n`
      + `Get a token: curl -s ${issuerUrl(config.issuer, 'oauth/token')} -d grant_type=client_credentials -d client_id=${client_id} `
      + `-d client_secret=... -d audience=${managementAudience(config.issuer)}\n\n`);
  }
  const { created, signUpUrl } = gatehouse.operatorBootstrap;
  if (created) logger.info({ email: created, console: issuerUrl(config.issuer, 'console') }, 'first console operator created from GATEHOUSE_ADMIN_EMAIL');
  // Like the secret above: a single-use link, printed on the terminal only, stored only as a digest.
  if (signUpUrl) process.stdout.write(`\nNo console operator exists yet. Open this single-use link within 72 hours to become the first one:\n  ${signUpUrl}\n\n`);
  else if (!created && config.env === 'production' && !gatehouse.operatorBootstrap.hasOperators) {
    logger.warn('No console operator exists: set GATEHOUSE_ADMIN_EMAIL and GATEHOUSE_ADMIN_PASSWORD, or invite one through the Management API (POST /api/v2/operators/invitations)');
  }

  // Metrics on a port of their own, which the proxy in front of Gatehouse does not publish (README, "Metrics").
  const metricsPort = config.metrics.port;
  const metricsServer = gatehouse.metricsRouter && metricsPort !== null
    ? await listenForMetrics(gatehouse.metricsRouter, metricsPort).catch((err: NodeJS.ErrnoException) => fail(`Could not listen on METRICS_PORT ${metricsPort} (${err.code ?? err.message}). Set it to a free port, or unset it.`))
    : undefined;
  if (metricsServer) {
    const address = metricsServer.address();
    logger.info({ metrics_port: typeof address === 'object' && address ? address.port : config.metrics.port }, 'metrics listening');
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: /readyz answers 503, no new connections, finishing requests in flight');
    gatehouse.drain();
    drain.start();
    const force = setTimeout(() => server.closeAllConnections(), 10_000).unref();
    metricsServer?.close();
    server.close(async () => {
      clearTimeout(force);
      await gatehouse.close();
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

await main();
