import express from 'express';
import { ConfigError, loadConfig } from './config/load.ts';
import { createGatehouse } from './gatehouse.ts';
import { createLogger } from './http/logging.ts';
import { issuerUrl } from './domain/issuer.ts';
import { managementAudience } from './domain/system-api.ts';
import { StoreError } from './store/ports.ts';

/** The drop-in IdP: one process serving Gatehouse at the issuer root. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  logger.info({ node: process.version, env: config.env, issuer: config.issuer }, 'Gatehouse starting');
  let gatehouse;
  try {
    gatehouse = await createGatehouse({ config, logger });
  } catch (err) {
    if (err instanceof StoreError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const { stores } = gatehouse;
  logger.info({ durable: stores.durable.kind, ephemeral: stores.ephemeral.kind }, 'storage ready');
  if (!stores.shareable && (config.mongodbUri || config.redisUrl)) {
    logger.warn('Only one of MONGODB_URI and REDIS_URL is set: part of the state lives in this process, so run a single Gatehouse process.');
  }

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(gatehouse.router);
  const server = app.listen(config.port, () => {
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
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    const force = setTimeout(() => server.closeAllConnections(), 10_000).unref();
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
