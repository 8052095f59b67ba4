import path from 'node:path';
import type { Router } from 'express';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { knownAgents } from './config/known-agents.ts';
import { loadConfig } from './config/load.ts';
import type { GatehouseConfig } from './config/schema.ts';
import type { KeyMaterial, SigningKey } from './domain/model.ts';
import { outboundExemptions } from './domain/outbound-addresses.ts';
import { auditContext } from './http/audit-context.ts';
import { clientOrigin } from './http/client-address.ts';
import { createLogger, pickedFieldsLogger } from './http/logging.ts';
import { auth0LogoutRouter } from './http/auth0-logout.ts';
import { managementRouter } from './http/management/index.ts';
import { metricsRouter as createMetricsRouter, requestMetrics } from './http/metrics.ts';
import { appsRouter } from './http/pages/apps.ts';
import { homeRouter, notFoundPage } from './http/pages/home.ts';
import { interactionRouter, type HostAuthentication } from './http/pages/interactions.ts';
import { networkGuard as createNetworkGuard } from './http/network-guard.ts';
import { portalRouter } from './http/pages/portal.ts';
import { providerPages } from './http/pages/provider-pages.ts';
import { registrationRouter } from './http/registration.ts';
import { revocationFeedRouter } from './http/revocation-feed.ts';
import { followRevocations, type RevocationWatch, type RevocationWatchOptions } from './http/revocation-watch.ts';
import { openRequestSignals } from './http/request-signals.ts';
import { gatehouseRouter } from './http/router.ts';
import { rootWellKnownRouter } from './http/well-known.ts';
import { fixedKeys, watchKeys } from './oidc/key-watcher.ts';
import { checkSigningKeys, ensureKeyMaterial } from './oidc/keys.ts';
import { createProvider } from './oidc/provider.ts';
import { consoleRouter } from './http/console/index.ts';
import { applicationDirectory, storeLookup, type ApplicationDirectory } from './services/application-directory.ts';
import { createAuditLog, type AuditLog } from './services/audit.ts';
import { clientMetadataDocuments } from './services/client-metadata-documents.ts';
import { createActivityRecorder, type ActivityRecorder } from './services/connection-activity.ts';
import { createStreamDelivery, type StreamDelivery } from './services/log-streams.ts';
import { createMetrics } from './services/metrics.ts';
import { bootstrapAdminApplication, ensureAccountApplication, ensureConsole, registerSystemApi, seed, type AdminCredentials } from './services/bootstrap.ts';
import { bootstrapOperators, type OperatorBootstrap } from './services/operators.ts';
import { ensureHostConnection, HOST_CONNECTION } from './services/host-users.ts';
import { registrationService } from './services/registration.ts';
import { readRevocationFeed } from './services/revocations.ts';
import { selfRegistrationBudgets } from './services/self-registration.ts';
import { createLoginLockout, passwordSignIn } from './services/sign-in.ts';
import { accountService } from './services/accounts.ts';
import { createMailer } from './services/mail.ts';
import { upstreamTransactions } from './services/upstream.ts';
import { accountLinksRouter } from './http/pages/account-links.ts';
import { upstreamCallbackRouter } from './http/pages/upstream-callback.ts';
import { removeIdleRegistrations } from './services/usage.ts';
import { openStores, type Stores } from './store/index.ts';

export interface GatehouseOptions {
  /**
   * Settings (see README, "Configuration"); what is missing comes from config/default.json. The environment is not
   * read here: the drop-in process reads it (src/main.ts), a host application passes what it wants.
   */
  config: Partial<GatehouseConfig> & Pick<GatehouseConfig, 'issuer'>;
  /** Already-open stores to use (and leave open on close); by default they are opened from the configuration. */
  stores?: Stores;
  logger?: Logger;
  /** Middleware mode: the host application's sign-in decides who the user is, instead of Gatehouse's login page. */
  authenticate?: HostAuthentication;
  /**
   * Private signing JWKs (each with `kid` and `alg`; the first of each algorithm signs) from the host's own secret
   * store. By default Gatehouse generates keys and keeps them in the durable store.
   */
  signingKeys?: SigningKey[];
}

export interface Gatehouse {
  readonly config: GatehouseConfig;
  /** Mount at the issuer's path (`app.use('/auth', gatehouse.router)`), or at the root when the issuer has no path. */
  readonly router: Router;
  /** Mount at the host app's root when the issuer has a path: RFC 8414 / OIDC discovery at /.well-known/…/<path>. */
  readonly wellKnown: Router;
  readonly provider: Provider;
  readonly stores: Stores;
  /** Where every application is found from a `client_id` (src/services/application-directory.ts). */
  readonly directory: ApplicationDirectory;
  /** The key material as this process uses it now (a rotation made in any process reaches it without a restart). */
  readonly keys: KeyMaterial;
  readonly logger: Logger;
  readonly adminCredentials: AdminCredentials;
  /** The tenant log (`/api/v2/logs`): events are written in batches; `flush()` writes what is queued now. */
  readonly audit: AuditLog;
  /** Connection activity, counted in memory and written every `activity.flush_interval_ms` (or on `flush()`). */
  readonly activity: ActivityRecorder;
  /** Log stream delivery, every `logs.streams.interval_ms` (or on `deliverNow()`). */
  readonly logStreams: StreamDelivery;
  /**
   * GET /metrics (src/http/metrics.ts) when metrics are configured: the drop-in process serves it on `metrics.port`;
   * in middleware mode, mount it where only Prometheus reaches it. With `metrics.token` the main router serves it too.
   */
  readonly metricsRouter: Router | undefined;
  /** The console's first operator, made at this start, or the single-use sign-up link to print (development). */
  readonly operatorBootstrap: OperatorBootstrap;
  /**
   * Middleware mode: the revocations of one of your APIs, read from Gatehouse's store, for `requireAccessToken`'s
   * `revocations` (another process uses `watchRevocations` with the issuer URL instead). Stopped by `close()`.
   */
  watchRevocations(audience: string, options?: RevocationWatchOptions): RevocationWatch;
  /** Shutdown begins: /readyz answers 503 from now on, so that a balancer stops routing here while requests finish. */
  drain(): void;
  /** Stops answering readiness (as drain() does), writes what the log and the activity hold, then closes the stores it opened. */
  close(): Promise<void>;
}

/** Every process runs the clean-up; it is idempotent, so several processes doing it at once is harmless. */
function scheduleIdleRegistrationCleanup(stores: Stores, days: number, logger: Logger): NodeJS.Timeout | undefined {
  if (days <= 0) return undefined;
  const timer = setInterval(() => {
    removeIdleRegistrations(stores, days)
      .then((removed) => removed.length && logger.info({ removed, idle_days: days }, 'removed idle dynamically registered applications'))
      .catch((err) => logger.error({ err }, 'idle registration clean-up failed'));
  }, 3600_000);
  timer.unref();
  return timer;
}

export async function createGatehouse(options: GatehouseOptions): Promise<Gatehouse> {
  const config = loadConfig({ env: {}, overrides: options.config });
  const logger = options.logger ?? createLogger(config.logLevel);
  const ownsStores = !options.stores;
  const opened = options.stores ?? await openStores({ dataDir: config.dataDir, mongodbUri: config.mongodbUri, redisUrl: config.redisUrl, keyEncryptionKeys: config.keyEncryptionKeys, logger });
  // Metrics are off unless a port or a token says where they may be read (README, "Metrics").
  const metrics = config.metrics.port !== null || config.metrics.token ? createMetrics() : undefined;
  const stores = metrics ? metrics.instrumentStores(opened) : opened;
  /** Background work started so far, stopped (after writing what it holds) if the start fails half-way. */
  const background: { close(): Promise<void> }[] = [];
  try {
    const { durable } = stores;
    await seed(durable, config);
    await registerSystemApi(durable, config.issuer);
    const adminCredentials = await bootstrapAdminApplication(durable, config);
    await ensureAccountApplication(durable, config.issuer);
    await ensureConsole(durable, config.issuer);
    const operatorBootstrap = await bootstrapOperators(durable, config.issuer, { email: config.adminEmail, password: config.adminPassword, allowSignUpLink: config.env !== 'production' });
    const stored = await ensureKeyMaterial(durable.keys);
    const keys = options.signingKeys ? { ...stored, signing: checkSigningKeys(options.signingKeys) } : stored;
    if (options.authenticate) await ensureHostConnection(durable, options.authenticate.connection ?? HOST_CONNECTION, true);
    const cookieKeys = config.cookieKeys.length ? config.cookieKeys : keys.cookies;
    const activity = createActivityRecorder(durable, config.activity, logger);
    const audit = createAuditLog({ store: durable, logger, settings: config.logs, observers: [activity.observe, ...(metrics ? [metrics.observeEvent] : [])] });
    metrics?.watchAudit(audit);
    const logStreams = createStreamDelivery(durable, config.logs.streams, logger, metrics?.streams);
    background.push(logStreams, audit, activity);
    const metricsRouter = metrics && createMetricsRouter(metrics, config.metrics.token);
    const lockout = createLoginLockout(stores.redis, config.login);
    const signIn = passwordSignIn(durable, lockout);
    const budgets = selfRegistrationBudgets(stores.redis, config.registration);
    const registration = registrationService(durable, budgets, pickedFieldsLogger(logger));
    const lookup = storeLookup(durable);
    const exemptions = outboundExemptions(config.cimd.allowed_private_hosts);
    if (config.cimd.allowed_private_hosts.length) {
      logger.warn({ allowed_private_hosts: config.cimd.allowed_private_hosts }, 'client metadata documents and keys may be fetched from these non-public hosts (cimd.allowed_private_hosts): development or internal agents only');
    }
    const documents = clientMetadataDocuments({ store: durable, lookup, budgets, exemptions, logger });
    const directory = applicationDirectory({ lookup, documents });
    const mailer = createMailer({
      smtpUrl: config.mail.smtp_url,
      from: config.mail.from ?? `no-reply@${new URL(config.issuer).hostname}`,
      outboxDir: ownsStores && !config.mongodbUri ? path.join(config.dataDir, 'outbox') : null,
    }, logger);
    if (!config.mail.smtp_url && config.env === 'production') logger.warn('SMTP_URL is not set: verification and password reset emails are written to the log and the outbox folder, not sent');
    const upstream = upstreamTransactions(stores.oidcAdapter('UpstreamLogin'));
    const accounts = accountService({ stores, issuer: config.issuer, mailer, templatesDir: config.mail.templates_dir, lockout });
    // One reading of who is asking, for every route and for oidc-provider alike (README, "Behind a proxy").
    const origin = clientOrigin(config.trustProxy);
    const clientAddress = origin.address;
    const aclSignals = await openRequestSignals(config.aclSignals, origin);
    const networkGuard = createNetworkGuard({ store: durable, signals: aclSignals, issuer: config.issuer });
    const provider = createProvider({
      issuer: config.issuer, stores, directory, keys, cookieKeys, requestOrigin: origin, logger, signIn, pages: providerPages(durable, config.issuer),
      devicePollIntervalSeconds: config.deviceFlow.poll_interval_seconds,
      // Asked only while serving requests, after liveKeys below exists (the watcher needs the provider).
      currentKeys: () => liveKeys.material,
    });
    const liveKeys = options.signingKeys
      ? fixedKeys(keys)
      : watchKeys({ keys: durable.keys, provider, initial: keys, refreshSeconds: config.keys.refresh_seconds, logger });
    let shuttingDown = false;
    const agents = knownAgents(config.cimd.known_agents);
    const management = managementRouter({
      issuer: config.issuer, keys: () => liveKeys.material, stores, directory, documents, lockout, rateLimitPerSecond: config.management.rate_limit_per_second,
      aclSignals, clientAddress, accounts,
    });
    const router = gatehouseRouter({
      issuer: config.issuer,
      provider,
      stores,
      logger,
      isShuttingDown: () => shuttingDown,
      networkGuard,
      auditContext: auditContext(audit, origin),
      ...(metrics && metricsRouter ? { metrics: { requests: requestMetrics(metrics), ...(config.metrics.token ? { router: metricsRouter } : {}) } } : {}),
      routes: [
        ['/api/v2', management],
        ['/console', consoleRouter({
          provider, stores, issuer: config.issuer, management, csrfKey: cookieKeys[0] as string, logger, idleTimeoutMinutes: config.console.idle_timeout_minutes, knownAgents: agents,
        })],
        ['/u', interactionRouter({
          provider, stores, directory, knownAgents: agents, issuer: config.issuer, csrfKey: cookieKeys[0] as string, logger, signIn,
          clientAddress, accounts, lockout, upstream, ...(options.authenticate ? { authenticate: options.authenticate } : {}),
        })],
        ['/u', accountLinksRouter({ stores, issuer: config.issuer, csrfKey: cookieKeys[0] as string, logger, accounts })],
        ['/login', upstreamCallbackRouter({ provider, stores, directory, issuer: config.issuer, csrfKey: cookieKeys[0] as string, logger, upstream })],
        ['/u', appsRouter({ provider, stores, directory, issuer: config.issuer, csrfKey: cookieKeys[0] as string, logger })],
        ['/oidc/register', registrationRouter({ registration, clientAddress })],
        ['/oauth/revocations', revocationFeedRouter(durable)],
        ['/v2/logout', auth0LogoutRouter({ directory, issuer: config.issuer })],
        ['/developers', portalRouter({ registration, stores, issuer: config.issuer, csrfKey: cookieKeys[0] as string, logger, idleCleanupDays: config.registration.idle_cleanup_days, clientAddress })],
        ['/', homeRouter(durable, config.issuer)],
      ],
      notFoundPage: notFoundPage(durable, config.issuer),
    });
    const cleanup = scheduleIdleRegistrationCleanup(stores, config.registration.idle_cleanup_days, logger);
    const watches = new Set<RevocationWatch>();
    return {
      config, router, wellKnown: rootWellKnownRouter(provider, config.issuer, networkGuard), provider, stores, directory, logger, adminCredentials,
      operatorBootstrap, audit, activity, logStreams, metricsRouter,
      get keys() {
        return liveKeys.material;
      },
      watchRevocations(audience, watchOptions) {
        const watch = followRevocations(audience, (after) => readRevocationFeed(durable, audience, after), watchOptions);
        watches.add(watch);
        return watch;
      },
      drain() {
        shuttingDown = true;
      },
      async close() {
        shuttingDown = true;
        clearInterval(cleanup);
        for (const watch of watches) watch.close();
        liveKeys.stop();
        for (const work of background) await work.close();
        if (ownsStores) await stores.close();
      },
    };
  } catch (err) {
    for (const work of background) await work.close();
    if (ownsStores) await stores.close();
    throw err;
  }
}
