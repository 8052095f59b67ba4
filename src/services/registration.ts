import type { Logger } from 'pino';
import type { RegistrationRefusalReason } from '../domain/log-events.ts';
import type { Application } from '../domain/model.ts';
import { claimedIdentities, RegistrationError, registrationDraft, registrationFingerprint, type RegistrationRequest } from '../domain/registration.ts';
import { initialTrust } from '../domain/trust.ts';
import type { DurableStore } from '../store/ports.ts';
import { issueApplication } from './applications.ts';
import { recordEvent, recordEventOnce } from './audit.ts';
import type { LimitResult } from './rate-limits.ts';
import type { SelfRegistrationBudgets } from './self-registration.ts';
import { readTenantSettings } from './tenant.ts';

/** Why a registration attempt is turned away (network ACLs have already let it in). */
export type Refusal =
  | { reason: 'rate_limited'; status: 429; error: 'too_many_requests'; description: string; limit: LimitResult }
  | { reason: 'disabled'; status: 400; error: 'invalid_request'; description: string }
  | { reason: 'cap_reached'; status: 403; error: 'access_denied'; description: string };

export interface Admission {
  refusal?: Refusal;
  /** The tenant-wide counter after this attempt, for RateLimit-* headers. */
  limit?: LimitResult;
  /** The address is over its backstop: the registration is refused or, where the tenant says so, admitted as pending. */
  addressOverBudget?: LimitResult;
}

/** A refused registration in the tenant log (and the metrics), with its reason. */
export const recordRefusedRegistration = (reason: RegistrationRefusalReason, description: string, details: Record<string, unknown> = {}) =>
  recordEvent('client_registration_failed', { description, details: { reason, ...details } });

/** A refusal, recorded in the tenant log as it is returned. */
function refused<R extends Refusal>(refusal: R, details: Record<string, unknown> = {}): R {
  recordRefusedRegistration(refusal.reason, refusal.description, details);
  return refusal;
}

/** A registration's outcome: the application (new, or the same public client registered before), or a refusal. */
export type Registration =
  | { refusal: Refusal }
  | { application: Application; secret: string | undefined; created: boolean };

/** A registration budget spent: refused (and the limit recorded once per window, as Auth0's `api_limit`). */
function tooMany(limit: LimitResult, budget: string, identity?: string): Refusal {
  recordEventOnce(`api_limit:${budget}:${identity ?? ''}`, limit.resetSeconds * 1000, 'api_limit', { details: { limit: budget, retry_after_seconds: limit.resetSeconds } });
  return refused({
    reason: 'rate_limited', status: 429, error: 'too_many_requests', description: `Too many registrations${identity ? ` for ${identity}` : ''}: try again in ${limit.resetSeconds} s.`, limit,
  });
}

/**
 * Open dynamic registration, for /oidc/register and the developer portal alike. Network ACLs are applied before, in
 * front of every surface (src/http/network-guard.ts). `admit` counts the attempt (tenant-wide, then the address's
 * backstop) and reads the tenant flag (on every attempt, so a change applies at once in every process), before the
 * metadata is read. `register` turns valid metadata into a third-party application in the tenant's DCR security mode:
 * a public client registering what it registered before gets that application back (nothing new is stored or counted);
 * a new one is counted against the cap and the budget of each identity it claims, and starts at the trust the tenant
 * decides (src/domain/trust.ts). Registration and its trust are where audit events belong. `lines` writes its log line
 * (picked fields only: no redaction pass, see src/http/logging.ts).
 */
export function registrationService(store: DurableStore, budgets: SelfRegistrationBudgets, lines: Logger) {
  async function admit(client: { ip: string }): Promise<Admission> {
    const { tenant: limit, addressOverBudget } = await budgets.countAttempt(client.ip);
    if (!limit.allowed) return { limit, refusal: tooMany(limit, 'registration') };
    if (!(await readTenantSettings(store)).flags.enable_dynamic_client_registration) {
      return { limit, refusal: refused({ reason: 'disabled', status: 400, error: 'invalid_request', description: 'Dynamic client registration is disabled for this tenant. An administrator can enable it with PATCH /api/v2/tenants/settings {"flags":{"enable_dynamic_client_registration":true}}.' }) };
    }
    return { limit, ...(addressOverBudget ? { addressOverBudget } : {}) };
  }

  /** Throws RegistrationError (RFC 7591) for metadata that breaks a rule. */
  async function register(request: RegistrationRequest, client: { ip: string }, admission: Admission): Promise<Registration> {
    const settings = await readTenantSettings(store);
    let draft;
    try {
      draft = registrationDraft(request, settings.dynamic_client_registration_security_mode, new Date().toISOString());
    } catch (err) {
      if (err instanceof RegistrationError) recordRefusedRegistration('invalid_metadata', err.message, { error: err.error, client_name: request.client_name });
      throw err;
    }
    const fingerprint = registrationFingerprint(draft);
    const registeredBefore = async () => (fingerprint ? (await store.applications.find({ registration_fingerprint: fingerprint }, { limit: 1 }))[0] : undefined);
    const existing = await registeredBefore();
    if (existing) return { application: existing, secret: undefined, created: false };

    // The caller's budgets first (their refusal says "slow down"), then the tenant's cap.
    const identityOverBudget = await budgets.countNewApplication(claimedIdentities(draft));
    const overBudget = identityOverBudget?.limit ?? admission.addressOverBudget;
    if (overBudget && settings.self_registered_clients.over_budget === 'refuse') {
      return { refusal: tooMany(overBudget, identityOverBudget ? 'registration_per_identity' : 'registration_per_address', identityOverBudget?.identity) };
    }
    if (await budgets.capReached(store)) {
      return { refusal: refused({ reason: 'cap_reached', status: 403, error: 'access_denied', description: `This service has reached its limit of ${budgets.maxApplications} dynamically registered applications; ask its administrator.` }) };
    }
    const trust = initialTrust({ path: 'dynamic_registration', redirectUris: draft.callbacks }, settings.self_registered_clients, Boolean(overBudget));
    let issued;
    try {
      issued = await issueApplication(store, { ...draft, trust, ...(fingerprint ? { registration_fingerprint: fingerprint } : {}) });
    } catch (err) {
      const concurrent = await registeredBefore(); // the same client registered at the same moment: one application
      if (concurrent) return { application: concurrent, secret: undefined, created: false };
      throw err;
    }
    const { application } = issued;
    const redirectHosts = [...new Set(application.callbacks.map((uri) => new URL(uri).host))];
    lines.info({
      client_id: application.client_id, ip: client.ip, client_name: application.name, trust,
      claimed: claimedIdentities(application), ...(identityOverBudget ? { over_budget: identityOverBudget.identity } : {}),
    }, 'dynamic client registration');
    recordEvent('client_registered', {
      client_id: application.client_id, client_name: application.name,
      details: {
        redirect_hosts: redirectHosts, software_id: application.registration_metadata?.software_id, application_type: application.app_type,
        token_endpoint_auth_method: application.token_endpoint_auth_method, trust,
      },
    });
    return { ...issued, created: true };
  }

  return { admit, register };
}

export type RegistrationService = ReturnType<typeof registrationService>;
