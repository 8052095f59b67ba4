/**
 * One `WWW-Authenticate` challenge (RFC 9110 §11.6.1): `Scheme name="value", …`, parameters in the order given,
 * undefined ones left out. RFC 6750 §3 allows no `"` or `\` inside the values, so they are dropped.
 */
export function authChallenge(scheme: 'Bearer' | 'DPoP' | 'Basic', params: Record<string, string | undefined>): string {
  const pairs = Object.entries(params).filter((pair): pair is [string, string] => pair[1] !== undefined);
  return pairs.length ? `${scheme} ${pairs.map(([name, value]) => `${name}="${value.replace(/["\\]/g, '')}"`).join(', ')}` : scheme;
}
