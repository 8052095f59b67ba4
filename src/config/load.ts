import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { decodeKey } from '../domain/ids.ts';
import { exemptionProblem } from '../domain/outbound-addresses.ts';
import { configSchema, type Environment, type GatehouseConfig } from './schema.ts';

export class ConfigError extends Error {
  /** The setting at fault, as the operator wrote it: an environment variable or a config file key. */
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(`Invalid configuration: ${setting} ${message}`);
    this.setting = setting;
  }
}

export const DEFAULT_CONFIG_DIR = fileURLToPath(new URL('../../config/', import.meta.url));

type EnvParser = (raw: string) => unknown;
const asString: EnvParser = (raw) => raw;
const asInteger: EnvParser = (raw) => (/^\d+$/.test(raw) ? Number(raw) : raw);
const asBoolean: EnvParser = (raw) => (raw === 'true' || raw === 'false' ? raw === 'true' : raw);
const asList: EnvParser = (raw) => raw.split(',').map((s) => s.trim()).filter(Boolean);
const asTrustProxy: EnvParser = (raw) => {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return asInteger(raw);
};

/** A top-level setting, or one of a section's that the environment can set (ACL signal sources, mail, logs, metrics, CIMD's exempted hosts). */
export type ConfigKey = keyof GatehouseConfig | `aclSignals.${keyof GatehouseConfig['aclSignals']}` | `mail.${keyof GatehouseConfig['mail']}`
  | `logs.${keyof GatehouseConfig['logs']}` | `metrics.${keyof GatehouseConfig['metrics']}` | 'cimd.allowed_private_hosts';

/** Environment variables that override config files: variable → (config key, parser). Documented in README. */
export const ENV_OVERRIDES: Record<string, [ConfigKey, EnvParser]> = {
  NODE_ENV: ['env', asString],
  PORT: ['port', asInteger],
  ISSUER: ['issuer', asString],
  DATA_DIR: ['dataDir', asString],
  MONGODB_URI: ['mongodbUri', asString],
  REDIS_URL: ['redisUrl', asString],
  TRUST_PROXY: ['trustProxy', asTrustProxy],
  GATEHOUSE_ADMIN_CLIENT_ID: ['adminClientId', asString],
  GATEHOUSE_ADMIN_CLIENT_SECRET: ['adminClientSecret', asString],
  GATEHOUSE_ADMIN_EMAIL: ['adminEmail', asString],
  GATEHOUSE_ADMIN_PASSWORD: ['adminPassword', asString],
  COOKIE_KEYS: ['cookieKeys', asList],
  GATEHOUSE_KEY_ENCRYPTION_KEY: ['keyEncryptionKeys', asList],
  LOG_LEVEL: ['logLevel', asString],
  GATEHOUSE_CIMD_ALLOWED_HOSTS: ['cimd.allowed_private_hosts', asList],
  GEOIP_DATABASE: ['aclSignals.geoip_database', asString],
  GEOIP_ASN_DATABASE: ['aclSignals.asn_database', asString],
  ACL_COUNTRY_HEADER: ['aclSignals.country_header', asString],
  ACL_SUBDIVISION_HEADER: ['aclSignals.subdivision_header', asString],
  ACL_ASN_HEADER: ['aclSignals.asn_header', asString],
  ACL_JA3_HEADER: ['aclSignals.ja3_header', asString],
  ACL_JA4_HEADER: ['aclSignals.ja4_header', asString],
  SMTP_URL: ['mail.smtp_url', asString],
  MAIL_FROM: ['mail.from', asString],
  LOG_RETENTION_DAYS: ['logs.retention_days', asInteger],
  LOGS_TO_STDOUT: ['logs.to_stdout', asBoolean],
  METRICS_PORT: ['metrics.port', asInteger],
  METRICS_TOKEN: ['metrics.token', asString],
};

/** Settings whose values never appear in an error message (SMTP URLs carry the relay's password). */
const SECRET_SETTINGS = new Set<string>(['adminClientSecret', 'adminPassword', 'cookieKeys', 'keyEncryptionKeys', 'mail.smtp_url', 'metrics.token']);

/** How an operator names a setting in messages: its key, and the environment variable that sets it, if any. */
export function settingName(key: ConfigKey): string {
  const variable = Object.entries(ENV_OVERRIDES).find(([, [target]]) => target === key)?.[0];
  return variable ? `${key} (${variable})` : key;
}

const ajv = new Ajv({ allErrors: false, useDefaults: false });
addFormats.default(ajv);
const validateConfig = ajv.compile<GatehouseConfig>(configSchema);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function readJsonFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, `is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw new ConfigError(file, 'must hold a JSON object');
  return parsed;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  configDir?: string;
  /** Applied last, after files and environment (used by tests and by middleware mode). */
  overrides?: Partial<GatehouseConfig>;
}

/**
 * Settings come from, in increasing precedence: config/default.json, config/<NODE_ENV>.json, config/local.json,
 * the file named by CONFIG_FILE, environment variables, then programmatic overrides.
 */
export function loadConfig(options: LoadConfigOptions = {}): GatehouseConfig {
  const env = options.env ?? process.env;
  const dir = options.configDir ?? DEFAULT_CONFIG_DIR;
  const environment = (env.NODE_ENV ?? options.overrides?.env ?? 'development') as Environment;
  const files = [
    path.join(dir, 'default.json'),
    path.join(dir, `${environment}.json`),
    ...(environment === 'test' ? [] : [path.join(dir, 'local.json')]),
    ...(env.CONFIG_FILE ? [path.resolve(env.CONFIG_FILE)] : []),
  ];
  let merged: Record<string, unknown> = { env: 'development' };
  for (const file of files) {
    if (existsSync(file)) merged = deepMerge(merged, readJsonFile(file));
    else if (file === path.resolve(env.CONFIG_FILE ?? '')) throw new ConfigError('CONFIG_FILE', `names ${file}, which does not exist`);
  }

  const origin: Record<string, string> = {};
  for (const [variable, [key, parse]] of Object.entries(ENV_OVERRIDES)) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const [section, field] = key.split('.') as [string, string | undefined];
    merged[section] = field ? { ...(isPlainObject(merged[section]) ? merged[section] : {}), [field]: parse(raw) } : parse(raw);
    origin[key] = variable;
  }
  merged = deepMerge(merged, (options.overrides ?? {}) as Record<string, unknown>);
  merged.issuer ??= `http://localhost:${String(merged.port ?? 3000)}`;

  if (!validateConfig(merged)) {
    const error = validateConfig.errors?.[0];
    const key = (error?.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.') || String(error?.params && 'missingProperty' in error.params ? error.params.missingProperty : 'configuration');
    const topKey = key.split('.')[0] ?? key;
    const variable = origin[key] ?? origin[topKey];
    const setting = variable ? `${variable} (${key})` : key;
    const got = SECRET_SETTINGS.has(topKey) || SECRET_SETTINGS.has(key) ? 'a value not shown, since it is a secret' : JSON.stringify(valueAt(merged, key));
    throw new ConfigError(setting, `${error?.message ?? 'is invalid'} (got ${got})`);
  }
  checkEnvironmentRules(merged, origin);
  return merged;
}

function valueAt(object: Record<string, unknown>, dottedKey: string): unknown {
  let current: unknown = object;
  for (const part of dottedKey.split('.')) current = isPlainObject(current) || Array.isArray(current) ? (current as Record<string, unknown>)[part] : undefined;
  return current;
}

/** Rules that depend on more than one setting, or on the environment. */
function checkEnvironmentRules(config: GatehouseConfig, origin: Record<string, string>): void {
  const name = (key: keyof GatehouseConfig, variable: string) => origin[key] ?? `${variable} (${key})`;
  if ((config.adminClientId === null || config.adminClientId === undefined) !== (config.adminClientSecret === null || config.adminClientSecret === undefined)) {
    throw new ConfigError(name('adminClientSecret', 'GATEHOUSE_ADMIN_CLIENT_SECRET'), 'must be set together with GATEHOUSE_ADMIN_CLIENT_ID');
  }
  if ((config.adminEmail === null || config.adminEmail === undefined) !== (config.adminPassword === null || config.adminPassword === undefined)) {
    throw new ConfigError(name('adminPassword', 'GATEHOUSE_ADMIN_PASSWORD'), 'must be set together with GATEHOUSE_ADMIN_EMAIL');
  }
  config.keyEncryptionKeys.forEach((key) => {
    try {
      decodeKey(key);
    } catch (err) {
      throw new ConfigError(name('keyEncryptionKeys', 'GATEHOUSE_KEY_ENCRYPTION_KEY'), (err as Error).message);
    }
  });
  for (const entry of config.cimd.allowed_private_hosts) {
    const problem = exemptionProblem(entry);
    if (problem) throw new ConfigError(settingName('cimd.allowed_private_hosts'), `entry ${JSON.stringify(entry)} ${problem}`);
  }
  for (const key of ['geoip_database', 'asn_database'] as const) {
    const file = config.aclSignals[key];
    if (file && !existsSync(file)) throw new ConfigError(settingName(`aclSignals.${key}`), `names ${file}, which does not exist`);
  }
  if (config.env !== 'production') return;
  if (!config.issuer.startsWith('https://')) throw new ConfigError(name('issuer', 'ISSUER'), 'must be an https:// URL in production');
  if (config.cookieKeys.length === 0) throw new ConfigError(name('cookieKeys', 'COOKIE_KEYS'), 'must list at least one key of 32+ characters in production');
  if (!config.adminClientId) throw new ConfigError(name('adminClientId', 'GATEHOUSE_ADMIN_CLIENT_ID'), 'must be set in production');
  if (config.keyEncryptionKeys.length === 0) {
    throw new ConfigError(name('keyEncryptionKeys', 'GATEHOUSE_KEY_ENCRYPTION_KEY'), 'must be set in production: signing keys are encrypted at rest with it (make one with: openssl rand -base64 32)');
  }
}
