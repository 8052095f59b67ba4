import { isLoopbackRedirect } from './applications.ts';
import { invalidBody } from './errors.ts';
import type { Connection, ConnectionOptions, ConnectionSecrets, ConnectionStrategy } from './model.ts';
import { applyPatch } from './updates.ts';

/** Options as the Management API sends them: the stored ones and the secrets, together as in Auth0. */
export type ConnectionOptionsInput = ConnectionOptions & ConnectionSecrets;
import { checkConnectionChangeable, isOperatorConnection } from './operators.ts';

export interface ConnectionCreate {
  name: string;
  strategy: ConnectionStrategy;
  display_name?: string;
  is_domain_connection?: boolean;
  enabled_clients?: string[];
  options?: ConnectionOptionsInput;
}

/**
 * `name` and `strategy` are fixed once created: users and login requests refer to the connection by name. `options`
 * replaces the options as a whole (as in Auth0), except that a `client_secret` left out is kept.
 */
export type ConnectionPatch = Partial<Pick<Connection, 'display_name' | 'is_domain_connection' | 'enabled_clients'>> & { options?: ConnectionOptionsInput };

type OptionName = keyof ConnectionOptionsInput;

const UPSTREAM_COMMON: OptionName[] = ['client_id', 'client_secret', 'scope', 'link_by_verified_email'];

/** The options each strategy takes (any other is refused, naming it) and those it needs. */
const STRATEGY_OPTIONS: Record<ConnectionStrategy, { allowed: OptionName[]; required: OptionName[] }> = {
  auth0: { allowed: ['disable_signup', 'passwordPolicy', 'password_complexity_options'], required: [] },
  oidc: { allowed: [...UPSTREAM_COMMON, 'discovery_url', 'issuer', 'type', 'domain_aliases'], required: ['client_id'] },
  oauth2: { allowed: [...UPSTREAM_COMMON, 'authorizationURL', 'tokenURL', 'profileURL'], required: ['client_id', 'client_secret', 'authorizationURL', 'tokenURL', 'profileURL'] },
  'google-oauth2': { allowed: UPSTREAM_COMMON, required: ['client_id', 'client_secret'] },
  github: { allowed: UPSTREAM_COMMON, required: ['client_id', 'client_secret'] },
  windowslive: { allowed: UPSTREAM_COMMON, required: ['client_id', 'client_secret'] },
};

export const CONNECTION_STRATEGIES = Object.keys(STRATEGY_OPTIONS) as ConnectionStrategy[];

const URL_OPTIONS: OptionName[] = ['discovery_url', 'issuer', 'authorizationURL', 'tokenURL', 'profileURL'];

/** Gatehouse calls these URLs itself: https, or plain http on this machine (a provider under development). */
const urlProblem = (value: string) => (URL.canParse(value) && (new URL(value).protocol === 'https:' || isLoopbackRedirect(value))
  ? undefined
  : 'must be an https URL (or http on a loopback host)');

/** Why these options do not fit the strategy, or undefined. */
export function connectionOptionsProblem(strategy: ConnectionStrategy, options: ConnectionOptionsInput): string | undefined {
  const { allowed, required } = STRATEGY_OPTIONS[strategy];
  const sent = Object.keys(options).filter((name) => options[name as OptionName] !== undefined) as OptionName[];
  const foreign = sent.find((name) => !allowed.includes(name));
  if (foreign) return `options.${foreign} does not apply to the ${strategy} strategy`;
  const absent = required.find((name) => options[name] === undefined);
  if (absent) return `options.${absent} is required for the ${strategy} strategy`;
  for (const name of URL_OPTIONS) {
    const value = options[name];
    const problem = typeof value === 'string' ? urlProblem(value) : undefined;
    if (problem) return `options.${name} ${problem}`;
  }
  if (strategy !== 'oidc') return undefined;
  if (!options.discovery_url && !options.issuer) return 'options.discovery_url (or options.issuer) is required for the oidc strategy';
  // The back channel authenticates to the provider with the secret; the front channel has none to keep.
  const channel = options.type ?? 'back_channel';
  if (channel === 'back_channel' && !options.client_secret) return 'options.client_secret is required for an oidc connection of type back_channel';
  if (channel === 'front_channel' && options.client_secret) return 'options.client_secret does not apply to an oidc connection of type front_channel';
  return undefined;
}

/** The options as stored, and the secrets kept apart (sealed at rest). */
function splitOptions(strategy: ConnectionStrategy, input: ConnectionOptionsInput): Pick<Connection, 'options' | 'secret_options'> {
  const problem = connectionOptionsProblem(strategy, input);
  if (problem) throw invalidBody(problem);
  const { client_secret, ...options } = input;
  return { options, ...(client_secret === undefined ? {} : { secret_options: { client_secret } }) };
}

export function draftConnection(input: ConnectionCreate, id: string, now: string): Connection {
  return {
    id,
    name: input.name,
    strategy: input.strategy,
    ...(input.display_name !== undefined ? { display_name: input.display_name } : {}),
    // Third-party applications may log in only through domain connections: promoting one is an explicit decision.
    is_domain_connection: input.is_domain_connection ?? false,
    enabled_clients: input.enabled_clients ?? [],
    ...(input.options || input.strategy !== 'auth0' ? splitOptions(input.strategy, input.options ?? {}) : {}),
    created_at: now,
    updated_at: now,
  };
}

/** A connection after a PATCH; the operators' connection is Gatehouse's and does not change. */
export function patchConnection(existing: Connection, patch: ConnectionPatch, now: string): Connection {
  checkConnectionChangeable(existing);
  const { options, ...fields } = patch;
  if (options === undefined) return applyPatch(existing, fields, now);
  // A client secret is write-only: a PATCH of the options that leaves it out keeps it, where the new options take one.
  const takesSecret = existing.strategy !== 'auth0' && (existing.strategy !== 'oidc' || (options.type ?? 'back_channel') === 'back_channel');
  const kept = options.client_secret === undefined && takesSecret ? existing.secret_options?.client_secret : undefined;
  const split = splitOptions(existing.strategy, kept === undefined ? options : { ...options, client_secret: kept });
  return { ...applyPatch(existing, { ...fields, ...split }, now), ...(split.secret_options ? {} : { secret_options: undefined }) };
}

/** Whether people may create their own account in this database connection from the login page (Auth0's default: yes). */
export const signupOpen = (connection: Pick<Connection, 'strategy' | 'options'> & Partial<Pick<Connection, 'id'>>) =>
  connection.strategy === 'auth0' && connection.options?.disable_signup !== true && !isOperatorConnection(connection); // operators are invited
