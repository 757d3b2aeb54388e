/**
 * A ToolChannel wrapped so frames between this side and its peers can be dropped, delayed,
 * duplicated or reordered, frame by frame, by a rule: a fixed one (`when`) or a seeded random one
 * (`seededRule`). Both directions pass through it: what this side sends (`out`) and what it
 * receives (`in`). Delays use the global setTimeout, so fake timers drive them.
 */
import type { ChannelHandlers, PeerInfo, ToolChannel } from '../../src/index.js';
import { Rng } from './rng.js';

export type Direction = 'out' | 'in';

export interface FrameInfo {
  readonly direction: Direction;
  /** The other end: the addressee of an `out` frame, the sender of an `in` frame. */
  readonly peer: string;
  readonly text: string;
  /** The frame's `type` and `call_id`, when it has them. */
  readonly type: string | undefined;
  readonly callId: string | undefined;
  /** Frames seen so far in this direction, this one excluded. */
  readonly seq: number;
}

/**
 * - `pass`: delivered as is.
 * - `drop`: lost (a send still resolves: it was handed over).
 * - `duplicate`: delivered twice in a row.
 * - `delay`: delivered `ms` later (dropped if the channel closed meanwhile).
 * - `reorder`: held back, then delivered right after the next frame that passes in the same
 *   direction (so the two swap places), or on `release()`.
 */
export type Fault = 'pass' | 'drop' | 'duplicate' | 'reorder' | { delay: number };

export type FaultRule = (frame: FrameInfo) => Fault;

export interface FaultRecord {
  readonly frame: FrameInfo;
  readonly fault: Fault;
}

export class FaultyChannel implements ToolChannel {
  readonly inner: ToolChannel;
  /** Every frame and what was done to it, in the order they were seen. */
  readonly log: FaultRecord[] = [];
  /** Frames actually handed on, per direction (a duplicate counts twice, a drop not at all). */
  readonly delivered: Record<Direction, FrameInfo[]> = { out: [], in: [] };
  rule: FaultRule;
  readonly #held: Record<Direction, Array<() => void>> = { out: [], in: [] };
  readonly #seq: Record<Direction, number> = { out: 0, in: 0 };
  #handlers: ChannelHandlers | undefined;
  #closed = false;

  constructor(inner: ToolChannel, rule: FaultRule = () => 'pass') {
    this.inner = inner;
    this.rule = rule;
  }

  get identity(): string {
    return this.inner.identity;
  }

  start(handlers: ChannelHandlers): Promise<void> {
    this.#handlers = handlers;
    return this.inner.start({
      ...handlers,
      onFrame: (from, text) => {
        this.#apply('in', from.identity, text, () => this.#receive(from, text));
      },
      onClosed: (error) => {
        this.#closed = true;
        handlers.onClosed(error);
      },
    });
  }

  peers(): readonly PeerInfo[] {
    return this.inner.peers();
  }

  send(to: string, text: string): Promise<void> {
    // The sender learns the fate of the first copy handed on now; a duplicate's, or that of a copy
    // handed on later (delayed, reordered), is lost with it, as on a real network.
    let first: Promise<void> | undefined;
    let returned = false;
    this.#apply('out', to, text, () => {
      let sent: Promise<void>;
      try {
        sent = Promise.resolve(this.inner.send(to, text));
      } catch (error) {
        sent = Promise.reject(error);
      }
      if (first === undefined && !returned) first = sent;
      else sent.catch(() => {});
    });
    returned = true;
    return first ?? Promise.resolve();
  }

  close(): Promise<void> {
    this.#closed = true;
    return this.inner.close();
  }

  /** Delivers every frame still held back for reordering, oldest first. */
  release(): void {
    for (const direction of ['out', 'in'] as const) {
      for (const deliver of this.#held[direction].splice(0)) deliver();
    }
  }

  /** Frames of `type` that were delivered in `direction`. */
  deliveredOf(direction: Direction, type: string): FrameInfo[] {
    return this.delivered[direction].filter((frame) => frame.type === type);
  }

  /** How many frames of `type` got `fault` (compared by kind: any delay matches `delay`). */
  faulted(type: string, kind: 'drop' | 'duplicate' | 'reorder' | 'delay'): number {
    return this.log.filter(
      (record) => record.frame.type === type && faultKind(record.fault) === kind,
    ).length;
  }

  #receive(from: PeerInfo, text: string): void {
    if (!this.#closed) this.#handlers?.onFrame(from, text);
  }

  #apply(direction: Direction, peer: string, text: string, deliver: () => void): void {
    const frame = describe(direction, peer, text, this.#seq[direction]++);
    const fault = this.rule(frame);
    this.log.push({ frame, fault });
    const handOn = () => {
      if (this.#closed) return;
      this.delivered[direction].push(frame);
      deliver();
    };
    if (fault === 'drop') return;
    if (fault === 'reorder') {
      this.#held[direction].push(handOn);
      return;
    }
    if (typeof fault === 'object') {
      setTimeout(handOn, fault.delay);
      return;
    }
    handOn();
    if (fault === 'duplicate') handOn();
    for (const held of this.#held[direction].splice(0)) held();
  }
}

function faultKind(fault: Fault): string {
  return typeof fault === 'object' ? 'delay' : fault;
}

function describe(direction: Direction, peer: string, text: string, seq: number): FrameInfo {
  let type: string | undefined;
  let callId: string | undefined;
  try {
    const parsed = JSON.parse(text) as { type?: unknown; call_id?: unknown };
    if (typeof parsed.type === 'string') type = parsed.type;
    if (typeof parsed.call_id === 'string') callId = parsed.call_id;
  } catch {
    // not JSON: a frame like any other
  }
  return { direction, peer, text, type, callId, seq };
}

/**
 * A fixed rule: `fault` for the frames of `type` (in `direction`, if given), the first `times` of
 * them (default: every one); everything else passes.
 */
export function when(
  match: { type: string; direction?: Direction; times?: number },
  fault: Fault,
): FaultRule {
  let left = match.times ?? Number.POSITIVE_INFINITY;
  return (frame) => {
    if (frame.type !== match.type) return 'pass';
    if (match.direction !== undefined && frame.direction !== match.direction) return 'pass';
    if (left <= 0) return 'pass';
    left--;
    return fault;
  };
}

/** The first rule that does something to a frame decides it. */
export function anyOf(...rules: FaultRule[]): FaultRule {
  return (frame) => {
    for (const rule of rules) {
      const fault = rule(frame);
      if (fault !== 'pass') return fault;
    }
    return 'pass';
  };
}

export interface FaultOdds {
  drop?: number;
  duplicate?: number;
  reorder?: number;
  delay?: number;
  /** Longest delay, ms (a delay is uniform in 1..maxDelayMs). Default 2,000. */
  maxDelayMs?: number;
}

/**
 * A random rule from `seed`: each frame `applies` to (default: every one) gets at most one fault,
 * with the given odds. The same seed and the same frames give the same faults.
 */
export function seededRule(
  seed: number,
  odds: FaultOdds,
  applies: (frame: FrameInfo) => boolean = () => true,
): FaultRule {
  const rng = new Rng(seed);
  const { drop = 0, duplicate = 0, reorder = 0, delay = 0, maxDelayMs = 2_000 } = odds;
  return (frame) => {
    if (!applies(frame)) return 'pass';
    const roll = rng.next();
    if (roll < drop) return 'drop';
    if (roll < drop + duplicate) return 'duplicate';
    if (roll < drop + duplicate + reorder) return 'reorder';
    if (roll < drop + duplicate + reorder + delay) return { delay: 1 + rng.int(maxDelayMs) };
    return 'pass';
  };
}
