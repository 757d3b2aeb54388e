/**
 * `X-Toolproxy-Event-Age-Ms`: how long ago the agent raised the event a hook POST carries, in
 * whole milliseconds, as measured by the sender just before this attempt (a sender that retries
 * sends the age anew each time). The ingress uses it so a stop delivered late, after retries,
 * cancels only the calls that had started by the time the stop was raised, not the next turn's.
 */

/** The header, as Node lower-cases it. */
export const EVENT_AGE_HEADER = 'x-toolproxy-event-age-ms';

/** Ten minutes: far beyond any sender's retry window; an older age is a sender's bug. */
export const MAX_EVENT_AGE_MS = 600_000;

export type EventAge =
  /** `ageMs` is undefined when the header is absent: the event is taken as raised now. */
  | { readonly ok: true; readonly ageMs: number | undefined }
  | { readonly ok: false; readonly reason: string };

/** Decimal digits only: no sign, fraction, exponent, hex or surrounding space. */
const DIGITS = /^[0-9]{1,6}$/;

/** Reads the header's value from `IncomingMessage.headers` (Node joins repeats with ", "). */
export function parseEventAge(value: string | readonly string[] | undefined): EventAge {
  if (value === undefined) return { ok: true, ageMs: undefined };
  const text = typeof value === 'string' ? value : value.join(', ');
  const ageMs = DIGITS.test(text) ? Number(text) : Number.NaN;
  if (Number.isInteger(ageMs) && ageMs <= MAX_EVENT_AGE_MS) return { ok: true, ageMs };
  const shown = text.length <= 40 ? text : `${text.slice(0, 39)}…`;
  return {
    ok: false,
    reason:
      `the X-Toolproxy-Event-Age-Ms header must be one whole number of milliseconds from 0 to ` +
      `${MAX_EVENT_AGE_MS} (the time since the agent raised the event), not ${JSON.stringify(shown)}; ` +
      'send it once, or leave it out to have the event taken as raised now',
  };
}
