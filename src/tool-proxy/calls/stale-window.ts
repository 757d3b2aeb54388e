/**
 * The `stale_after_ms` a call carries (PROTOCOL.md section 3.5): how long after sending it the
 * proxy may give up on the provider. A provider that gets the call later does not run it, since
 * its caller may already have been told it failed (and retried). The configured window is the
 * liveness timeout; the probe and the transport, which know how long a provider has already been
 * silent, narrow it for a provider that is near its drop.
 */
import { DEFAULT_LIVENESS, type LivenessOptions } from './liveness.js';

/** The configured window, or undefined when calls are to carry none. */
export function resolveStaleCallMs(
  staleCallMs: number | false | undefined,
  liveness: LivenessOptions | false | undefined,
): number | undefined {
  if (staleCallMs === false) return undefined;
  if (staleCallMs === undefined)
    return (liveness === false ? undefined : liveness?.timeoutMs) ?? DEFAULT_LIVENESS.timeoutMs;
  if (!(Number.isFinite(staleCallMs) && staleCallMs > 0))
    throw new RangeError('staleCallMs must be a positive number of ms, or false');
  return staleCallMs;
}

/**
 * The narrowest of the configured window and what each source says is left of the provider's
 * silence (undefined: that source cannot tell), in whole ms, at least 1 (the wire wants a positive
 * number; a provider that close to its drop gets the call only if it reads it at once).
 */
export function staleWindow(
  configured: number | undefined,
  silenceLeft: readonly (number | undefined)[],
): number | undefined {
  if (configured === undefined) return undefined;
  let window = configured;
  for (const left of silenceLeft) if (left !== undefined && left < window) window = left;
  return Math.max(1, Math.ceil(window));
}
