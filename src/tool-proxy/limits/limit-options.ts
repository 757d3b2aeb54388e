/**
 * The per-provider limits a proxy enforces, resolved from its options: defaults filled in and every
 * value checked once, at construction, so a typo fails loudly instead of quietly lifting a limit.
 * The defaults and their reasons are in PROTOCOL.md section 13.
 */
import { DEFAULT_MAX_JSON_DEPTH } from '../../protocol/json-depth.js';
import type { RateLimit } from './token-bucket.js';

export interface LimitOptions {
  /**
   * Frames per second one provider may send. Over budget, its frames are dropped and counted,
   * except a result for one of its own pending calls. Default 200; `false` or `Infinity` disables.
   */
  framesPerSecond?: number | false;
  /** Frames a provider may send at once after a quiet spell. Default twice `framesPerSecond` (400). */
  frameBurst?: number;
  /**
   * Characters of frame text per second one provider may send: what its frames cost to parse,
   * whatever their number. Over budget, frames are dropped like frames over `framesPerSecond`, and
   * results for its own pending calls are still taken. Each structural character (`[ ] { } , :`
   * outside strings) costs `LIMIT_DEFAULTS.charsPerStructural` characters, as parsing it does, and
   * a frame costing more than is left puts the budget into debt. Default 4 × `maxFrameChars` (4 Mi
   * chars); `false` or `Infinity` disables.
   */
  charsPerSecond?: number | false;
  /** Characters at once. Default 8 × `maxFrameChars`; at least `maxFrameChars`. */
  charBurst?: number;
  /**
   * Registrations per second one provider may make (each tool of a batch counts). Over budget, a
   * registration is refused with reason `rate-limited`. Default 20; `false` or `Infinity` disables.
   */
  registrationsPerSecond?: number | false;
  /** Registrations at once. Default twice `maxToolsPerProvider`, at least 128. */
  registrationBurst?: number;
  /**
   * Longest result frame, in characters of JSON text, a call accepts; a longer one fails the call
   * with INVALID_RESULT. Default (and upper bound): `maxFrameChars`. `false` or `Infinity`: only
   * the frame cap applies.
   */
  maxResultChars?: number | false;
  /**
   * Deepest nesting of arrays and objects a frame may have; a deeper one is refused before it is
   * parsed, like a frame over `maxFrameChars` (problem `too-deep`, counted in `frames.tooLarge`).
   * Default 64, the deepest the protocol's own frames need being 10 or so; at least 8.
   */
  maxFrameDepth?: number;
}

export interface ResolvedLimits {
  readonly frames: RateLimit | undefined;
  readonly chars: RateLimit | undefined;
  readonly registrations: RateLimit | undefined;
  readonly maxResultChars: number;
  readonly maxFrameDepth: number;
  /** What one structural character costs in the character budget, in characters. */
  readonly charsPerStructural: number;
}

export const LIMIT_DEFAULTS = {
  framesPerSecond: 200,
  registrationsPerSecond: 20,
  /** Parsing 4 full frames a second costs a few percent of a core; a burst of 8 covers a tool set. */
  charsPerSecondPerFrameCap: 4,
  charBurstPerFrameCap: 8,
  /** Room for a provider's whole tool set twice over: registered on connect, again on a hello. */
  registrationBurstPerTool: 2,
  minRegistrationBurst: 128,
  maxFrameDepth: DEFAULT_MAX_JSON_DEPTH,
  /**
   * V8 parses a structural character 22–41 times slower than a character of string in ordinary
   * JSON (numbers, small objects, tool results), up to 124× in arrays nested 64 deep and 249× in an
   * object of many distinct keys (test/bench/json-cost.ts). At 32, ordinary JSON is charged about
   * what it costs, and the worst shape measured costs at most 7× a string's parse time per budget
   * character: at the default budget, at most ~30 ms of parsing per second per sender.
   */
  charsPerStructural: 32,
  /** Below this a real frame (a registration with its JSON Schema) would not fit. */
  minFrameDepth: 8,
} as const;

export function resolveLimits(
  options: LimitOptions,
  context: { maxFrameChars: number; maxToolsPerProvider: number },
): ResolvedLimits {
  const frames = rate(options.framesPerSecond, LIMIT_DEFAULTS.framesPerSecond, 'framesPerSecond');
  const registrations = rate(
    options.registrationsPerSecond,
    LIMIT_DEFAULTS.registrationsPerSecond,
    'registrationsPerSecond',
  );
  const registrationBurst = Math.max(
    LIMIT_DEFAULTS.minRegistrationBurst,
    LIMIT_DEFAULTS.registrationBurstPerTool * context.maxToolsPerProvider,
  );
  const chars = rate(
    options.charsPerSecond,
    LIMIT_DEFAULTS.charsPerSecondPerFrameCap * context.maxFrameChars,
    'charsPerSecond',
  );
  const charBurst = burst(
    options.charBurst,
    LIMIT_DEFAULTS.charBurstPerFrameCap * context.maxFrameChars,
    'charBurst',
  );
  // A smaller burst would refuse the largest frame forever, however long its sender waited.
  if (chars !== false && charBurst < context.maxFrameChars)
    throw new RangeError(`charBurst must be at least maxFrameChars (${context.maxFrameChars})`);
  return {
    chars: chars === false ? undefined : { perSecond: chars, burst: charBurst },
    frames:
      frames === false
        ? undefined
        : { perSecond: frames, burst: burst(options.frameBurst, 2 * frames, 'frameBurst') },
    registrations:
      registrations === false
        ? undefined
        : {
            perSecond: registrations,
            burst: burst(options.registrationBurst, registrationBurst, 'registrationBurst'),
          },
    maxResultChars: resultCap(options.maxResultChars, context.maxFrameChars),
    maxFrameDepth: frameDepth(options.maxFrameDepth),
    charsPerStructural: LIMIT_DEFAULTS.charsPerStructural,
  };
}

/** A rate per second, or `false` when the limit is off. */
function rate(value: number | false | undefined, fallback: number, what: string): number | false {
  if (value === undefined) return fallback;
  if (value === false || value === Number.POSITIVE_INFINITY) return false;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${what} must be a positive number, or false (or Infinity) for no limit`);
  }
  return value;
}

function burst(value: number | undefined, fallback: number, what: string): number {
  // Below 1, not even one frame could ever pass.
  if (value === undefined) return Math.max(1, fallback);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) {
    throw new RangeError(`${what} must be a finite number, at least 1`);
  }
  return value;
}

function resultCap(value: number | false | undefined, maxFrameChars: number): number {
  if (value === undefined || value === false || value === Number.POSITIVE_INFINITY)
    return maxFrameChars;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) {
    throw new RangeError('maxResultChars must be a number of chars, at least 1, or false');
  }
  // A frame over the frame cap is never parsed, so a larger result cap could not be honoured.
  return Math.min(Math.floor(value), maxFrameChars);
}

function frameDepth(value: number | undefined): number {
  if (value === undefined) return LIMIT_DEFAULTS.maxFrameDepth;
  if (!Number.isInteger(value) || value < LIMIT_DEFAULTS.minFrameDepth) {
    throw new RangeError(
      `maxFrameDepth must be a whole number, at least ${LIMIT_DEFAULTS.minFrameDepth}`,
    );
  }
  return value;
}
