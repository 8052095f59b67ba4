import { createHash } from 'node:crypto';
import type { Application, ConnectionActivity } from './model.ts';

/**
 * Connection activity: how each user uses each application for each API. Tokens are counted in memory and written in
 * aggregate (src/services/connection-activity.ts), so the record of one (user, application, API) has one id everywhere.
 */
export const connectionActivityId = (userId: string, clientId: string, audience: string) =>
  createHash('sha256').update(JSON.stringify([userId, clientId, audience])).digest('hex').slice(0, 32);

const DAY = 86_400_000;

/**
 * Whether an application counts as unused for `days`: no token for that long (its own `last_used_at`, recorded daily,
 * and its users' connection activity), and created before that.
 */
export function unusedFor(app: Pick<Application, 'created_at' | 'last_used_at'>, activity: readonly Pick<ConnectionActivity, 'last_used_at'>[], days: number, now: number): boolean {
  const since = now - days * DAY;
  const uses = [app.last_used_at, ...activity.map((a) => a.last_used_at)].filter((at): at is string => Boolean(at));
  return Date.parse(app.created_at) < since && uses.every((at) => Date.parse(at) < since);
}

/** The latest use among records (ISO strings compare in time order). */
export const lastUse = (activity: readonly Pick<ConnectionActivity, 'last_used_at'>[]): string | undefined =>
  activity.map((a) => a.last_used_at).sort().at(-1);
