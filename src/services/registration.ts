import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RegistrationRefusalReason } from '../domain/log-events.ts';
import { RegistrationError, registrationDraft, type RegistrationRequest } from '../domain/registration.ts';
import type { DurableStore } from '../store/ports.ts';
import { issueApplication } from './applications.ts';
import { recordEvent, recordEventOnce } from './audit.ts';
import { createLimiter, type LimitResult } from './rate-limits.ts';
import { readTenantSettings } from './tenant.ts';

export interface RegistrationLimits {
  rate_limit_per_second: number;
  rate_limit_per_ip_per_minute: number;
  max_applications: number;
}

/** Why a registration attempt is turned away before its metadata is even read (network ACLs have already let it in). */
export type Refusal =
  | { reason: 'rate_limited'; status: 429; error: 'too_many_requests'; description: string; limit: LimitResult }
  | { reason: 'disabled'; status: 400; error: 'invalid_request'; description: string }
  | { reason: 'cap_reached'; status: 403; error: 'access_denied'; description: string };

/** A refused registration in the tenant log (and the metrics), with its reason. */
export const recordRefusedRegistration = (reason: RegistrationRefusalReason, description: string, details: Record<string, unknown> = {}) =>
  recordEvent('client_registration_failed', { description, details: { reason, ...details } });

export interface Admission {
  refusal?: Refusal;
  /** The tenant-wide counter after this attempt, for RateLimit-* headers. */
  limit?: LimitResult;
}

/**
 * Open dynamic registration, for /oidc/register and the developer portal alike. Network ACLs are applied before, in
 * front of every surface (src/http/network-guard.ts). `admit` applies, in order, the per-address and tenant-wide rate
 * limits (every attempt counts), the tenant flag (read on every attempt, so a change applies at once in every process)
 * and the cap; `register` turns valid metadata into a third-party application in the tenant's DCR security mode.
 */
export function registrationService(store: DurableStore, redis: Redis | undefined, limits: RegistrationLimits, logger: Logger) {
  const perAddress = createLimiter(redis, 'dcr-ip', limits.rate_limit_per_ip_per_minute, 60);
  const perTenant = createLimiter(redis, 'dcr', limits.rate_limit_per_second, 1);

  async function admit(client: { ip: string }): Promise<Admission> {
    let limit: LimitResult | undefined;
    for (const [limiter, key] of [[perAddress, client.ip], [perTenant, 'tenant']] as const) {
      limit = await limiter(key);
      if (!limit.allowed) {
        const scope = key === 'tenant' ? 'registration' : 'registration_per_address';
        recordEventOnce(`api_limit:${scope}:${key}`, limit.resetSeconds * 1000, 'api_limit', { details: { limit: scope, retry_after_seconds: limit.resetSeconds } });
        recordRefusedRegistration('rate_limited', `Too many registrations (${scope})`);
        return { limit, refusal: { reason: 'rate_limited', status: 429, error: 'too_many_requests', description: `Too many registrations: try again in ${limit.resetSeconds} s.`, limit } };
      }
    }
    if (!(await readTenantSettings(store)).flags.enable_dynamic_client_registration) {
      recordRefusedRegistration('disabled', 'Dynamic client registration is disabled for this tenant');
      return { ...(limit ? { limit } : {}), refusal: { reason: 'disabled', status: 400, error: 'invalid_request', description: 'Dynamic client registration is disabled for this tenant. An administrator can enable it with PATCH /api/v2/tenants/settings {"flags":{"enable_dynamic_client_registration":true}}.' } };
    }
    if ((await store.applications.count({ registration_type: 'dynamic' })) >= limits.max_applications) {
      recordRefusedRegistration('cap_reached', `The cap of ${limits.max_applications} registered applications is reached`);
      return { ...(limit ? { limit } : {}), refusal: { reason: 'cap_reached', status: 403, error: 'access_denied', description: `This service has reached its limit of ${limits.max_applications} dynamically registered applications; ask its administrator.` } };
    }
    return limit ? { limit } : {};
  }

  /** Throws RegistrationError (RFC 7591) for metadata that breaks a rule. */
  async function register(request: RegistrationRequest, client: { ip: string }) {
    const settings = await readTenantSettings(store);
    let draft;
    try {
      draft = registrationDraft(request, settings.dynamic_client_registration_security_mode, new Date().toISOString());
    } catch (err) {
      if (err instanceof RegistrationError) recordRefusedRegistration('invalid_metadata', err.message, { error: err.error, client_name: request.client_name });
      throw err;
    }
    const issued = await issueApplication(store, draft);
    const { application } = issued;
    const registered = {
      client_id: application.client_id, client_name: application.name,
      redirect_hosts: [...new Set(application.callbacks.map((uri) => new URL(uri).host))], software_id: application.registration_metadata?.software_id,
    };
    logger.info({ ...registered, ip: client.ip }, 'dynamic client registration');
    recordEvent('client_registered', {
      client_id: application.client_id, client_name: application.name,
      details: { redirect_hosts: registered.redirect_hosts, software_id: registered.software_id, application_type: application.app_type, token_endpoint_auth_method: application.token_endpoint_auth_method },
    });
    return issued;
  }

  return { admit, register };
}

export type RegistrationService = ReturnType<typeof registrationService>;
