import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import type { KnownAgent } from '../domain/known-agents.ts';
import { DEFAULT_CONFIG_DIR } from './load.ts';
import { knownAgentSchema } from './schema.ts';

const validate = new Ajv().compile<{ agents: KnownAgent[] }>({
  type: 'object', required: ['agents'], properties: { about: { type: 'string' }, agents: { type: 'array', items: knownAgentSchema } },
});

/**
 * The agents Gatehouse ships as known (config/known-agents.json, each with the sources of its URL), then the operator's
 * own (`cimd.known_agents`).
 */
export function knownAgents(operatorAgents: readonly KnownAgent[], configDir = DEFAULT_CONFIG_DIR): KnownAgent[] {
  const shipped: unknown = JSON.parse(readFileSync(`${configDir}known-agents.json`, 'utf8'));
  if (!validate(shipped)) throw new Error(`config/known-agents.json is not valid: ${validate.errors?.[0]?.message}`);
  return [...shipped.agents, ...operatorAgents];
}
