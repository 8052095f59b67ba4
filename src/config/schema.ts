import type { SchemaObject } from 'ajv';
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
    /** Registrations per minute from one client address, so that one caller cannot starve everyone. */
    rate_limit_per_ip_per_minute: number;
    /** The most dynamically registered applications the tenant keeps. */
    max_applications: number;
    /** Delete dynamically registered applications unused and without consent for this many days (0: never). */
    idle_cleanup_days: number;
  };
  management: {
    /** Management API requests per second for one caller (an application, or an operator), across every process. */
    rate_limit_per_second: number;
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

export const configSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['env', 'port', 'issuer', 'dataDir', 'trustProxy', 'cookieKeys', 'keyEncryptionKeys', 'logLevel', 'tenant', 'registration', 'management', 'console', 'keys', 'deviceFlow', 'aclSignals', 'mail', 'login', 'seed'],
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
      required: ['rate_limit_per_second', 'rate_limit_per_ip_per_minute', 'max_applications', 'idle_cleanup_days'],
      properties: {
        rate_limit_per_second: { type: 'integer', minimum: 1 },
        rate_limit_per_ip_per_minute: { type: 'integer', minimum: 1 },
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
