import type { Application } from './model.ts';
import { isSelfRegistered } from './trust.ts';

/** An agent whose client id URL is known to belong to its vendor (config/known-agents.json, and the operator's own). */
export interface KnownAgent {
  client_id: string;
  name: string;
  vendor: string;
  /** Where the URL was seen published (for the shipped list; optional for the operator's own). */
  sources?: string[];
}

/** What consent may say about who is asking. */
export interface ClientIdentity {
  /** Its client id URL is, byte for byte, a known agent's. */
  verified?: KnownAgent;
  /** The known name its own, unverified, name looks like. */
  imitates?: string;
  /** The host of its client id URL: who publishes its description. */
  documentHost?: string;
}

/** Letters and digits people read alike, so "Cl4ude" and "ChatGРТ" (Cyrillic) read as what they imitate. */
const LOOKALIKES: Record<string, string> = {
  0: 'o', 1: 'l', 3: 'e', 4: 'a', 5: 's', 7: 't', 8: 'b', $: 's', '@': 'a', '|': 'l', '!': 'i',
  а: 'a', в: 'b', е: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', і: 'i', ј: 'j', ԁ: 'd', ѕ: 's', һ: 'h', ӏ: 'l', ο: 'o', ρ: 'p', α: 'a',
};

/** A name reduced to what it reads as: lower case, no accents, lookalikes replaced, letters only. */
export function readAs(name: string): string {
  return [...name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()].map((c) => LOOKALIKES[c] ?? c).join('').replace(/[^a-z]/g, '');
}

/**
 * Who is asking, as far as Gatehouse can tell: "verified" only for an exact client id URL match in the registry; a
 * self-registered application that is not verified and whose name reads like a known agent's or vendor's imitates it.
 */
export function clientIdentity(app: Pick<Application, 'name' | 'external_client_id' | 'registration_type' | 'external_metadata_type'>, agents: readonly KnownAgent[]): ClientIdentity {
  const documentHost = app.external_client_id ? URL.parse(app.external_client_id)?.host : undefined;
  const verified = app.external_client_id === undefined ? undefined : agents.find((agent) => agent.client_id === app.external_client_id);
  if (verified) return { verified, ...(documentHost ? { documentHost } : {}) };
  const reads = readAs(app.name);
  const imitates = isSelfRegistered(app)
    ? [...new Set(agents.flatMap((agent) => [agent.name, agent.vendor]))].find((known) => readAs(known).length >= 4 && reads.includes(readAs(known)))
    : undefined;
  return { ...(imitates ? { imitates } : {}), ...(documentHost ? { documentHost } : {}) };
}
