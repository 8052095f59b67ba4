import type { Logger } from 'pino';
import type { Application } from '../domain/model.ts';
import { claimedIdentities, registrationDraft, registrationFingerprint, type RegistrationRequest } from '../domain/registration.ts';
import { initialTrust } from '../domain/trust.ts';
import type { DurableStore } from '../store/ports.ts';
import { issueApplication } from './applications.ts';
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

/** A registration's outcome: the application (new, or the same public client registered before), or a refusal. */
export type Registration =
  | { refusal: Refusal }
  | { application: Application; secret: string | undefined; created: boolean };

const tooMany = (limit: LimitResult, identity?: string): Refusal => ({
  reason: 'rate_limited', status: 429, error: 'too_many_requests', description: `Too many registrations${identity ? ` for ${identity}` : ''}: try again in ${limit.resetSeconds} s.`, limit,
});

/**
 * Open dynamic registration, for /oidc/register and the developer portal alike. Network ACLs are applied before, in
 * front of every surface (src/http/network-guard.ts). `admit` counts the attempt (tenant-wide, then the address's
 * backstop) and reads the tenant flag (on every attempt, so a change applies at once in every process), before the
 * metadata is read. `register` turns valid metadata into a third-party application in the tenant's DCR security mode:
 * a public client registering what it registered before gets that application back (nothing new is stored or counted);
 * a new one is counted against the cap and the budget of each identity it claims, and starts at the trust the tenant
 * decides (src/domain/trust.ts). Registration and its trust are where audit events belong.
 */
export function registrationService(store: DurableStore, budgets: SelfRegistrationBudgets, logger: Logger) {
  async function admit(client: { ip: string }): Promise<Admission> {
    const { tenant: limit, addressOverBudget } = await budgets.countAttempt(client.ip);
    if (!limit.allowed) return { limit, refusal: tooMany(limit) };
    if (!(await readTenantSettings(store)).flags.enable_dynamic_client_registration) {
      return { limit, refusal: { reason: 'disabled', status: 400, error: 'invalid_request', description: 'Dynamic client registration is disabled for this tenant. An administrator can enable it with PATCH /api/v2/tenants/settings {"flags":{"enable_dynamic_client_registration":true}}.' } };
    }
    return { limit, ...(addressOverBudget ? { addressOverBudget } : {}) };
  }

  /** Throws RegistrationError (RFC 7591) for metadata that breaks a rule. */
  async function register(request: RegistrationRequest, client: { ip: string }, admission: Admission): Promise<Registration> {
    const settings = await readTenantSettings(store);
    const draft = registrationDraft(request, settings.dynamic_client_registration_security_mode, new Date().toISOString());
    const fingerprint = registrationFingerprint(draft);
    const registeredBefore = async () => (fingerprint ? (await store.applications.find({ registration_fingerprint: fingerprint }, { limit: 1 }))[0] : undefined);
    const existing = await registeredBefore();
    if (existing) return { application: existing, secret: undefined, created: false };

    if (await budgets.capReached(store)) {
      return { refusal: { reason: 'cap_reached', status: 403, error: 'access_denied', description: `This service has reached its limit of ${budgets.maxApplications} dynamically registered applications; ask its administrator.` } };
    }
    const identityOverBudget = await budgets.countNewApplication(claimedIdentities(draft));
    const overBudget = identityOverBudget?.limit ?? admission.addressOverBudget;
    if (overBudget && settings.self_registered_clients.over_budget === 'refuse') {
      return { refusal: tooMany(overBudget, identityOverBudget?.identity) };
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
    logger.info({
      client_id: application.client_id, ip: client.ip, client_name: application.name, trust,
      claimed: claimedIdentities(application), ...(identityOverBudget ? { over_budget: identityOverBudget.identity } : {}),
    }, 'dynamic client registration');
    return { ...issued, created: true };
  }

  return { admit, register };
}

export type RegistrationService = ReturnType<typeof registrationService>;
