/**
 * Tool names. Providers may use what hermes-livekit allows and a little more; agents see names that
 * every LLM provider accepts (`^[a-zA-Z0-9_-]{1,64}$`). When two providers offer the same name, the
 * first keeps it and the later one gets a stable suffix derived from its identity: the same
 * provider always gets the same suffixed name. A name shifts only when the plain name is freed:
 * then the oldest suffixed holder takes it back (the registry reports a rename).
 */

export const PROVIDER_TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
export const EXPOSED_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** 32-bit FNV-1a as 8 hex digits: stable across runs and platforms; not a security boundary. */
export function stableHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** `move_arm` from provider `robot-2` → `move_arm_1a2b3c4d` (at most 64 chars). */
export function suffixedName(name: string, provider: string): string {
  const suffix = `_${stableHash(provider)}`;
  return name.slice(0, 64 - suffix.length) + suffix;
}
