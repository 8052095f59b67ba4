import { invalidBody } from './errors.ts';
import type { Connection, ConnectionOptions, PasswordPolicyLevel } from './model.ts';
import { PASSWORD_LENGTH } from './user-rules.ts';

/**
 * Auth0's password strength levels for database connections. Gatehouse never goes below its own minimum length
 * (`PASSWORD_LENGTH.min`, NIST SP 800-63B), so `none` and `low` both mean "at least that many characters".
 */
const LEVELS: Record<PasswordPolicyLevel, { minLength: number; kinds: 'none' | 'all_of_three' | 'three_of_four'; noTriples: boolean }> = {
  none: { minLength: 1, kinds: 'none', noTriples: false },
  low: { minLength: 6, kinds: 'none', noTriples: false },
  fair: { minLength: 8, kinds: 'all_of_three', noTriples: false },
  good: { minLength: 8, kinds: 'three_of_four', noTriples: false },
  excellent: { minLength: 10, kinds: 'three_of_four', noTriples: true },
};

export const PASSWORD_POLICY_LEVELS = Object.keys(LEVELS) as PasswordPolicyLevel[];

/** What a connection's policy asks of a new password. */
export interface PasswordPolicy {
  level: PasswordPolicyLevel;
  minLength: number;
  maxLength: number;
  kinds: 'none' | 'all_of_three' | 'three_of_four';
  noTriples: boolean;
}

/**
 * The policy of a database connection: its `passwordPolicy` level (`none` when unset, as in Auth0), with
 * `password_complexity_options.min_length` replacing the level's length when set; never under Gatehouse's minimum.
 */
export function passwordPolicyOf(options: ConnectionOptions | undefined): PasswordPolicy {
  const level = options?.passwordPolicy ?? 'none';
  const rule = LEVELS[level];
  const length = options?.password_complexity_options?.min_length ?? rule.minLength;
  return { level, minLength: Math.max(PASSWORD_LENGTH.min, length), maxLength: PASSWORD_LENGTH.max, kinds: rule.kinds, noTriples: rule.noTriples };
}

const KIND_TESTS = [/\p{Ll}/u, /\p{Lu}/u, /\p{N}/u, /[^\p{L}\p{N}]/u];
const kindsIn = (password: string) => KIND_TESTS.map((test) => test.test(password));

interface Requirement {
  /** In plain words, as the sign-up and reset pages list it. */
  text: string;
  met(password: string): boolean;
}

/** What a policy requires, each requirement with its check: one list for the pages' hints and for the refusals. */
export function policyRequirements(policy: PasswordPolicy): Requirement[] {
  const length = (password: string) => [...password].length; // characters, not UTF-16 units
  const requirements: Requirement[] = [
    { text: `At least ${policy.minLength} characters`, met: (password) => length(password) >= policy.minLength },
    { text: `At most ${policy.maxLength} characters`, met: (password) => length(password) <= policy.maxLength },
  ];
  if (policy.kinds === 'all_of_three') {
    requirements.push({ text: 'Lower-case letters, upper-case letters and numbers', met: (password) => kindsIn(password).slice(0, 3).every(Boolean) });
  }
  if (policy.kinds === 'three_of_four') {
    requirements.push({
      text: 'At least three of: lower-case letters, upper-case letters, numbers, special characters (such as !@#$%^&*)',
      met: (password) => kindsIn(password).filter(Boolean).length >= 3,
    });
  }
  if (policy.noTriples) requirements.push({ text: 'No character more than twice in a row', met: (password) => !/(.)\1\1/su.test(password) });
  return requirements;
}

/** The requirements a password misses, in plain words (none: it is acceptable). */
export const passwordProblems = (password: string, policy: PasswordPolicy): string[] =>
  policyRequirements(policy).filter((requirement) => !requirement.met(password)).map((requirement) => requirement.text);

/** The requirements a new password misses in this database connection (sign-up, reset, Management API alike). */
export const passwordCheck = (connection: Pick<Connection, 'options'>, password: string) => passwordProblems(password, passwordPolicyOf(connection.options));

/** Auth0's refusal of a password its connection's policy does not accept. */
export const weakPassword = (problems: readonly string[]) => invalidBody(`PasswordStrengthError: Password is too weak (needs: ${problems.join('; ')})`);
