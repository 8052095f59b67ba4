import type { Redis } from 'ioredis';
import type { GatehouseConfig } from '../config/schema.ts';
import type { DurableStore } from '../store/ports.ts';
import { createLimiter, type LimitResult } from './rate-limits.ts';

export type RegistrationLimits = GatehouseConfig['registration'];

/** Why an attempt to create an application is turned away or held back. */
export interface AttemptCount {
  /** The tenant-wide counter after this attempt (Auth0's 5 per second): over it, the attempt is refused. */
  tenant: LimitResult;
  /** The address's counter, when over its backstop: refused, or admitted as pending where the tenant says so. */
  addressOverBudget?: LimitResult;
}

/**
 * How many applications may come into being on their own (dynamic registration, first use of a metadata document URL),
 * shared by both paths and, through Redis when configured, by every process. Every attempt counts against the tenant
 * (a hard limit) and against its address (a high backstop: one hosted connector serves many users from few addresses);
 * each new application also counts against every identity it claims (a redirect host, a software_id, a metadata
 * document's host), so that one claimant can neither flood the tenant nor use up another's budget.
 */
export function selfRegistrationBudgets(redis: Redis | undefined, limits: RegistrationLimits) {
  const perTenant = createLimiter(redis, 'dcr', limits.rate_limit_per_second, 1);
  const perAddress = createLimiter(redis, 'dcr-ip', limits.rate_limit_per_ip_per_minute, 60);
  const perIdentity = createLimiter(redis, 'dcr-claim', limits.rate_limit_per_claimed_identity_per_hour, 3600);
  return {
    /** The most self-registered applications the tenant keeps (registered, or created on first use of a document URL). */
    maxApplications: limits.max_applications,
    async capReached(store: DurableStore): Promise<boolean> {
      return (await store.applications.count({ registration_type: 'dynamic' })) >= limits.max_applications;
    },
    async countAttempt(address: string): Promise<AttemptCount> {
      const tenant = await perTenant('tenant');
      if (!tenant.allowed) return { tenant };
      const address_ = await perAddress(address);
      return address_.allowed ? { tenant } : { tenant, addressOverBudget: address_ };
    },
    /** Counts a new application against each identity it claims; returns the first identity over its budget. */
    async countNewApplication(identities: readonly string[]): Promise<{ identity: string; limit: LimitResult } | undefined> {
      let over: { identity: string; limit: LimitResult } | undefined;
      for (const identity of identities) {
        const limit = await perIdentity(identity);
        if (!limit.allowed) over ??= { identity, limit };
      }
      return over;
    },
  };
}

export type SelfRegistrationBudgets = ReturnType<typeof selfRegistrationBudgets>;
