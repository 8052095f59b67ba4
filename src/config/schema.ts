import type { SchemaObject } from 'ajv';
import type { KnownAgent } from '../domain/known-agents.ts';
import { PASSWORD_LENGTH } from '../domain/user-rules.ts';

export type Environment = 'development' | 'production' | 'test';

export interface SeedResourceServer {
  identifier: string;
  name: string;
  scopes: { value: string; description: string }[];
  allow_offline_access?: boolean;
  /** Scopes every third-party application gets by default (`default_for: third_party_clients`, user access). */
  default_third_party_scopes?: string[];
}

export interface SeedConnection {
  name: string;
  is_domain_connection: boolean;
}

export interface SeedUser {
  email: string;
  password: string;
  connection: string;
  name?: string;
}

export interface GatehouseConfig {
  env: Environment;
  port: number;
  issuer: string;
  dataDir: string;
  mongodbUri: string | null;
  redisUrl: string | null;
  /** Express `trust proxy`: false, true, a hop count, or a comma-separated list of addresses/CIDRs. */
  trustProxy: boolean | number | string;
  adminClientId: string | null;
  adminClientSecret: string | null;
  /** The first operator of the console, created at first start when no operator exists (README, "Console"). */
  adminEmail: string | null;
  adminPassword: string | null;
  cookieKeys: string[];
  /**
   * Key-encryption keys (32 bytes in base64, e.g. `openssl rand -base64 32`): the first seals the signing keys, cookie
   * keys and other secrets at rest; every one listed can open them (to replace a key, list the new one first). Required
   * in production.
   */
  keyEncryptionKeys: string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  tenant: {
    friendly_name: string;
    default_audience: string;
    /** Whether permissive third-party applications (and permissive dynamic registration) may exist at all. */
    allow_permissive_third_party_clients: boolean;
  };
  /** Dynamic client registration at /oidc/register (enabled per tenant through the Management API). */
  registration: {
    /** Registrations per second for the whole tenant, across every process (Auth0: 5). */
    rate_limit_per_second: number;
    /**
     * Registrations per minute from one client address: a high backstop only, since one hosted connector registers for
     * many users from few addresses (budgets per claimed identity do the real work).
     */
    rate_limit_per_ip_per_minute: number;
    /**
     * New applications per hour for one claimed identity (a redirect host, a software_id, the host of a CIMD URL):
     * one claimant cannot exhaust the tenant, and never another's budget.
     */
    rate_limit_per_claimed_identity_per_hour: number;
    /** The most dynamically registered applications the tenant keeps. */
    max_applications: number;
    /** Delete dynamically registered applications unused and without consent for this many days (0: never). */
    idle_cleanup_days: number;
  };
  management: {
    /** Management API requests per second for one caller (an application, or an operator), across every process. */
    rate_limit_per_second: number;
  };
  /** Client ID Metadata Documents (README, "AI agents"). */
  cimd: {
    /**
     * Host names, addresses or CIDR ranges whose documents and keys may be fetched although they are not public
     * (development, internal agents). Empty by default; a warning is logged at start when set.
     */
    allowed_private_hosts: string[];
    /** Known agents added to those Gatehouse ships (config/known-agents.json): exact client id URLs, verified on consent. */
    known_agents: KnownAgent[];
  };
  /** The operators' console at /console (README, "Console"). */
  console: {
    /** Minutes without a request after which an operator signs in again (the token's expiry ends a session too). */
    idle_timeout_minutes: number;
  };
  /** Signing keys (README, "Operations"). */
  keys: {
    /** How often each process re-reads the keys, so that a rotation reaches every process without a restart. */
    refresh_seconds: number;
    /**
     * How long `npm run keys:rotate` publishes new keys before they sign: longer than `refresh_seconds` plus the time
     * relying parties cache the JWKS.
     */
    rotation_lead_seconds: number;
  };
  /** The device authorization grant (RFC 8628) of first-party applications. */
  deviceFlow: {
    /** Seconds a device waits between two polls of the token endpoint; a faster poll gets `slow_down`. */
    poll_interval_seconds: number;
  };
  /**
   * Sources of the network ACL signals beyond the address and the user agent (README, "Network ACLs"). A signal
   * without a source cannot be used in a rule. Headers are believed only from a trusted proxy (`trustProxy`).
   */
  aclSignals: {
    /** A MaxMind DB (GeoIP2 / GeoLite2 Country or City): countries, and subdivisions from a City database. */
    geoip_database: string | null;
    /** A MaxMind DB with autonomous systems (GeoLite2 ASN, GeoIP2 ISP). */
    asn_database: string | null;
    /** A header carrying the client's ISO 3166-1 country code (such as CloudFront-Viewer-Country). */
    country_header: string | null;
    /** A header carrying its ISO 3166-2 subdivision, whole (`US-CA`) or without the country (`CA`). */
    subdivision_header: string | null;
    /** A header carrying its autonomous system number (such as CloudFront-Viewer-ASN). */
    asn_header: string | null;
    /** Headers carrying the TLS client fingerprints the proxy computed. */
    ja3_header: string | null;
    ja4_header: string | null;
  };
  /** The tenant log (`/api/v2/logs`), its streams and its stdout copy (README, "Logs, log streams and metrics"). */
  logs: {
    /** Keep events in the `logs` collection (the API and log streams read them there). */
    enabled: boolean;
    retention_days: number;
    /** Also write every event, as it is stored, to the process's own log (one JSON line each: for platforms that collect stdout). */
    to_stdout: boolean;
    /** Events held in memory awaiting their write; beyond, new events are dropped and counted. */
    queue_size: number;
    batch_size: number;
    flush_interval_ms: number;
    /** Network ACL matches are counted per rule and written as one `acls_summary` event per period. */
    acl_summary_minutes: number;
    /** Log stream delivery (src/services/log-streams.ts). */
    streams: {
      /** How often each process looks for events to deliver. */
      interval_ms: number;
      /** How long one HTTP request to a receiver may take. */
      timeout_ms: number;
      /** Wait after the first failed delivery; doubled after each further one, up to retry_max_ms. */
      retry_base_ms: number;
      retry_max_ms: number;
      /** Consecutive failures after which a stream is suspended until an administrator sets it active again. */
      suspend_after_failures: number;
      /**
       * Events younger than this are left for the next round, so that a batch another process is still writing (its
       * ids were given just before) is never skipped.
       */
      settle_ms: number;
    };
  };
  /** Connection activity: how often the uses counted in memory are written (one write per connection used meanwhile). */
  activity: {
    flush_interval_ms: number;
  };
  /** Prometheus metrics at GET /metrics: off unless a port or a token is set. */
  metrics: {
    /** Serve /metrics on this port of its own (the drop-in process), and nowhere else. */
    port: number | null;
    /** Serve /metrics on the main port to `Authorization: Bearer <token>` (and require it on the metrics port too). */
    token: string | null;
  };
  /** Email (verification, password reset, welcome): README, "Email". */
  mail: {
    /** smtp:// or smtps:// URL of the relay (credentials included); null: messages go to the log and DATA_DIR/outbox. */
    smtp_url: string | null;
    /** The From address; null: no-reply@<the issuer's host>. */
    from: string | null;
    /** A folder whose `<template>.eta` / `<template>.txt.eta` files replace the built-in email templates. */
    templates_dir: string;
  };
  /** Brute-force protection of email-and-password sign-in (login page and password grant). */
  login: {
    max_failures_per_account: number;
    max_failures_per_address: number;
    window_minutes: number;
  };
  seed: {
    resource_servers: SeedResourceServer[];
    connections: SeedConnection[];
    /** Created only outside production. */
    development_users: SeedUser[];
  };
}

const stringArray = { type: 'array', items: { type: 'string' } } as const;

export const knownAgentSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['client_id', 'name', 'vendor'],
  properties: {
    client_id: { type: 'string', pattern: '^https://', maxLength: 2000 },
    name: { type: 'string', minLength: 1, maxLength: 100 },
    vendor: { type: 'string', minLength: 1, maxLength: 100 },
    sources: stringArray,
  },
};

export const configSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: [
    'env', 'port', 'issuer', 'dataDir', 'trustProxy', 'cookieKeys', 'keyEncryptionKeys', 'logLevel', 'tenant', 'registration', 'management', 'cimd', 'console', 'keys',
    'deviceFlow', 'aclSignals', 'mail', 'logs', 'activity', 'metrics', 'login', 'seed',
  ],
  properties: {
    env: { type: 'string', enum: ['development', 'production', 'test'] },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    issuer: { type: 'string', format: 'uri', pattern: '^https?://[^?#/]+(/[^?#]*)?$', description: 'May end with / (Auth0\'s style).' },
    dataDir: { type: 'string', minLength: 1 },
    mongodbUri: { type: 'string', nullable: true, pattern: '^mongodb(\\+srv)?://' },
    redisUrl: { type: 'string', nullable: true, pattern: '^rediss?://' },
    trustProxy: {
      anyOf: [{ type: 'boolean' }, { type: 'integer', minimum: 0 }, { type: 'string', minLength: 1 }],
    },
    adminClientId: { type: 'string', nullable: true, pattern: '^[A-Za-z0-9_.-]{8,64}$' },
    adminClientSecret: { type: 'string', nullable: true, minLength: 32 },
    adminEmail: { type: 'string', nullable: true, format: 'email', maxLength: 254 },
    adminPassword: { type: 'string', nullable: true, minLength: PASSWORD_LENGTH.min, maxLength: PASSWORD_LENGTH.max },
    cookieKeys: { ...stringArray, items: { type: 'string', minLength: 32 } },
    keyEncryptionKeys: stringArray,
    logLevel: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    tenant: {
      type: 'object',
      additionalProperties: false,
      required: ['friendly_name', 'default_audience', 'allow_permissive_third_party_clients'],
      properties: {
        friendly_name: { type: 'string', minLength: 1, maxLength: 255 },
        default_audience: { type: 'string' },
        allow_permissive_third_party_clients: { type: 'boolean' },
      },
    },
    registration: {
      type: 'object',
      additionalProperties: false,
      required: ['rate_limit_per_second', 'rate_limit_per_ip_per_minute', 'rate_limit_per_claimed_identity_per_hour', 'max_applications', 'idle_cleanup_days'],
      properties: {
        rate_limit_per_second: { type: 'integer', minimum: 1 },
        rate_limit_per_ip_per_minute: { type: 'integer', minimum: 1 },
        rate_limit_per_claimed_identity_per_hour: { type: 'integer', minimum: 1 },
        max_applications: { type: 'integer', minimum: 0 },
        idle_cleanup_days: { type: 'integer', minimum: 0 },
      },
    },
    management: {
      type: 'object',
      additionalProperties: false,
      required: ['rate_limit_per_second'],
      properties: { rate_limit_per_second: { type: 'integer', minimum: 1 } },
    },
    cimd: {
      type: 'object',
      additionalProperties: false,
      required: ['allowed_private_hosts', 'known_agents'],
      properties: {
        allowed_private_hosts: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 253 } },
        known_agents: { type: 'array', items: knownAgentSchema },
      },
    },
    console: {
      type: 'object',
      additionalProperties: false,
      required: ['idle_timeout_minutes'],
      properties: { idle_timeout_minutes: { type: 'integer', minimum: 1, maximum: 1440 } },
    },
    keys: {
      type: 'object',
      additionalProperties: false,
      required: ['refresh_seconds', 'rotation_lead_seconds'],
      properties: { refresh_seconds: { type: 'integer', minimum: 1 }, rotation_lead_seconds: { type: 'integer', minimum: 0 } },
    },
    deviceFlow: {
      type: 'object',
      additionalProperties: false,
      required: ['poll_interval_seconds'],
      properties: { poll_interval_seconds: { type: 'integer', minimum: 1, maximum: 60 } },
    },
    aclSignals: {
      type: 'object',
      additionalProperties: false,
      required: ['geoip_database', 'asn_database', 'country_header', 'subdivision_header', 'asn_header', 'ja3_header', 'ja4_header'],
      properties: {
        geoip_database: { type: 'string', nullable: true, minLength: 1 },
        asn_database: { type: 'string', nullable: true, minLength: 1 },
        ...Object.fromEntries(['country_header', 'subdivision_header', 'asn_header', 'ja3_header', 'ja4_header']
          .map((name) => [name, { type: 'string', nullable: true, pattern: '^[A-Za-z0-9-]+$' }])),
      },
    },
    logs: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled', 'retention_days', 'to_stdout', 'queue_size', 'batch_size', 'flush_interval_ms', 'acl_summary_minutes', 'streams'],
      properties: {
        enabled: { type: 'boolean' },
        retention_days: { type: 'integer', minimum: 1, maximum: 3650 },
        to_stdout: { type: 'boolean' },
        queue_size: { type: 'integer', minimum: 1 },
        batch_size: { type: 'integer', minimum: 1, maximum: 10000 },
        flush_interval_ms: { type: 'integer', minimum: 10 },
        acl_summary_minutes: { type: 'integer', minimum: 1 },
        streams: {
          type: 'object',
          additionalProperties: false,
          required: ['interval_ms', 'timeout_ms', 'retry_base_ms', 'retry_max_ms', 'suspend_after_failures', 'settle_ms'],
          properties: {
            interval_ms: { type: 'integer', minimum: 10 },
            timeout_ms: { type: 'integer', minimum: 100 },
            retry_base_ms: { type: 'integer', minimum: 1 },
            retry_max_ms: { type: 'integer', minimum: 1 },
            suspend_after_failures: { type: 'integer', minimum: 1 },
            settle_ms: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
    activity: {
      type: 'object',
      additionalProperties: false,
      required: ['flush_interval_ms'],
      properties: { flush_interval_ms: { type: 'integer', minimum: 10 } },
    },
    metrics: {
      type: 'object',
      additionalProperties: false,
      required: ['port', 'token'],
      properties: {
        port: { type: 'integer', nullable: true, minimum: 0, maximum: 65535 },
        token: { type: 'string', nullable: true, minLength: 16 },
      },
    },
    mail: {
      type: 'object',
      additionalProperties: false,
      required: ['smtp_url', 'from', 'templates_dir'],
      properties: {
        smtp_url: { type: 'string', nullable: true, pattern: '^smtps?://' },
        from: { type: 'string', nullable: true, minLength: 3, maxLength: 320 },
        templates_dir: { type: 'string', minLength: 1 },
      },
    },
    login: {
      type: 'object',
      additionalProperties: false,
      required: ['max_failures_per_account', 'max_failures_per_address', 'window_minutes'],
      properties: {
        max_failures_per_account: { type: 'integer', minimum: 1 },
        max_failures_per_address: { type: 'integer', minimum: 1 },
        window_minutes: { type: 'integer', minimum: 1 },
      },
    },
    seed: {
      type: 'object',
      additionalProperties: false,
      required: ['resource_servers', 'connections', 'development_users'],
      properties: {
        resource_servers: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['identifier', 'name', 'scopes'],
            properties: {
              identifier: { type: 'string', minLength: 1, maxLength: 600 },
              name: { type: 'string', minLength: 1, maxLength: 200 },
              scopes: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['value', 'description'],
                  properties: {
                    value: { type: 'string', minLength: 1, maxLength: 280 },
                    description: { type: 'string', maxLength: 500 },
                  },
                },
              },
              allow_offline_access: { type: 'boolean', nullable: true },
              default_third_party_scopes: { ...stringArray, nullable: true },
            },
          },
        },
        connections: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'is_domain_connection'],
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 128 },
              is_domain_connection: { type: 'boolean' },
            },
          },
        },
        development_users: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['email', 'password', 'connection'],
            properties: {
              email: { type: 'string', format: 'email' },
              password: { type: 'string', minLength: 8 },
              connection: { type: 'string', minLength: 1 },
              name: { type: 'string', nullable: true },
            },
          },
        },
      },
    },
  },
};
