/** The fields a PATCH body sets, laid over what exists (an undefined field was not sent). */
export function overlay<T extends object>(existing: T, patch: Partial<NoInfer<T>>): T {
  const sent = Object.entries(patch).filter(([, value]) => value !== undefined);
  return { ...existing, ...Object.fromEntries(sent) };
}

/** `overlay` for stored entities, stamping the update time. */
export const applyPatch = <T extends { updated_at: string }>(existing: T, patch: Partial<NoInfer<T>>, now: string): T => ({
  ...overlay(existing, patch),
  updated_at: now,
});
