/**
 * What the soak knows about one call, and the verdict on it once its caller has settled: was the
 * outcome one the call's plan or something the driver did accounts for, did the caller see what the
 * proxy reported, and did an answer its provider handed over while it was pending reach it intact.
 */
import {
  type CallOutcome,
  type CancelReason,
  type ErrorCode,
  isToolProxyError,
} from '../../src/index.js';
import type { Answer } from './observed-channel.js';
import type { Plan, Registration } from './providers.js';

let sequence = 0;
/**
 * One order for provider sends, driver actions and proxy settlements, which happen in different
 * places: "sent before the call ended" is a comparison of two ticks of this clock.
 */
export function clock(): number {
  return ++sequence;
}

export const OUTCOMES: readonly CallOutcome[] = [
  'result',
  'remote-error',
  'invalid-result',
  'timeout',
  'cancelled',
  'provider-gone',
  'tool-unregistered',
  'send-failed',
];

export type ViolationKind =
  | 'lost'
  | 'duplicated'
  | 'unexpected'
  | 'misrouted'
  | 'unsettled'
  | 'frames'
  | 'refusal'
  | 'stats'
  | 'leftover';

export interface ProviderRef {
  readonly identity: string;
  /** The clock when the driver made the provider leave; 0 while it is present. */
  leftSeq: number;
}

export interface CallPlan {
  readonly n: number;
  readonly plan: Plan;
  readonly provider: ProviderRef | undefined;
  readonly registration: Registration | undefined;
  readonly sessionKey: string | undefined;
  /** The session whose shared signal the call follows, if any. */
  readonly sharedSignal: AbortSignal | undefined;
  /** The deadline the call should get (its own `timeoutMs`, else the proxy's default). */
  readonly deadlineMs: number;
  /** The code a call the proxy must refuse (nothing sent) is refused with. */
  readonly refusal?: ErrorCode;
}

export interface Entry extends CallPlan {
  callId: string | undefined;
  /** Date.now() at `call:started`, and the deadline the proxy gave the call. */
  startedAt: number;
  timeoutMs: number;
  /** Cancel reasons the driver's actions made possible while the call was pending. */
  readonly reasons: CancelReason[];
  sent: Answer | undefined;
  sentSeq: number;
  sendFailed: boolean;
  outcome: CallOutcome | undefined;
  settledSeq: number;
  settledAt: number;
  settledError: unknown;
  settledEvents: number;
  observed: { ok: boolean; value: unknown } | undefined;
  observedAt: number;
  callFrames: number;
  notices: number;
  /** Why its provider stopped working on the call, if it did (see `WireObserver.workStopped`). */
  workStopped: string | undefined;
  progressAfterSettled: number;
}

/**
 * Node starts a timer from the event loop's cached time, which lags the clock by however long the
 * current turn has run (a driver tick, a sampler's full collections): a deadline can fire that much
 * before `Date.now()` says it is due. A wrong deadline (the default, another call's) is further off.
 */
const EARLY_SLACK_MS = 50;

export interface Verdict {
  readonly violations: Array<[ViolationKind, string]>;
  /** The answer was sent after the call had ended (its provider had not heard yet). */
  readonly late: boolean;
  /** The answer was on the network when the proxy's own deadline or a cancel ended the call. */
  readonly raced: boolean;
}

/** The verdict on a call its caller saw settle; `racy` when frames cross a network. */
export function judge(entry: Entry, outcome: CallOutcome, racy: boolean): Verdict {
  const id = `${entry.callId ?? '?'} (#${entry.n}, ${entry.plan}, to ${entry.provider?.identity ?? '?'})`;
  const violations: Verdict['violations'] = [];
  const observed = entry.observed ?? { ok: false, value: undefined };
  const error = observed.ok ? undefined : observed.value;
  if (entry.progressAfterSettled > 0) violations.push(['frames', `${id}: progress after settling`]);
  if (observed.ok !== (outcome === 'result') || error !== entry.settledError)
    violations.push(['unexpected', `${id}: the caller and call:settled disagree (${outcome})`]);
  if (!explained(entry, outcome, error))
    violations.push(['unexpected', `${id} ended ${outcome} ${describe(error)}`]);
  if (entry.timeoutMs !== entry.deadlineMs)
    violations.push([
      'unexpected',
      `${id}: deadline ${entry.timeoutMs} ms, asked ${entry.deadlineMs}`,
    ]);
  const elapsed = entry.settledAt - entry.startedAt;
  if (outcome === 'timeout' && elapsed < entry.timeoutMs - EARLY_SLACK_MS)
    violations.push(['unexpected', `${id} timed out after ${elapsed} of ${entry.timeoutMs} ms`]);

  const left = (entry.provider?.leftSeq ?? 0) > 0;
  // On the in-memory room a call frame is delivered before anything else can happen.
  if (!racy && entry.callFrames === 0 && !left)
    violations.push(['frames', `${id}: the call frame never reached its provider`]);
  if (!stoppedRightly(entry, outcome, error, left))
    violations.push([
      'unexpected',
      `${id} ended ${outcome}; its provider stopped: ${entry.workStopped}`,
    ]);

  const { sent } = entry;
  if (outcome === 'result' || outcome === 'remote-error') {
    const intact =
      outcome === 'result'
        ? sent?.kind === 'result' && sameN(sent.value, entry.n) && sameN(observed.value, entry.n)
        : sent?.kind === 'error' &&
          sent.message === `failed #${entry.n}` &&
          isToolProxyError(error) &&
          error.message.endsWith(`failed: failed #${entry.n}`);
    if (!intact) violations.push(['misrouted', `${id}: ${outcome} not as its provider sent it`]);
    return { violations, late: false, raced: false };
  }
  if (sent === undefined || entry.sendFailed) return { violations, late: false, raced: false };
  if (entry.sentSeq > entry.settledSeq) return { violations, late: true, raced: false };
  // Sent while the call was pending. Only a withdrawal the provider sent before it (on the same
  // ordered link), or the proxy's own deadline or cancel while the frame crossed a network, may
  // overtake it. On the in-memory room nothing may: the frame is delivered before any timer runs.
  const withdrawn = entry.registration?.withdrawnSeq;
  if (outcome === 'tool-unregistered' && withdrawn !== undefined && withdrawn < entry.sentSeq)
    return { violations, late: false, raced: false };
  if (racy && (outcome === 'timeout' || outcome === 'cancelled'))
    return { violations, late: false, raced: true };
  violations.push(['lost', `${id}: ${sent.kind} sent while pending, the caller got ${outcome}`]);
  return { violations, late: false, raced: false };
}

/** Whether the plan, or something the driver did before the call ended, accounts for the outcome. */
function explained(entry: Entry, outcome: CallOutcome, error: unknown): boolean {
  const before = (seq: number | undefined) =>
    seq !== undefined && seq > 0 && seq < entry.settledSeq;
  switch (outcome) {
    case 'result':
      return entry.plan === 'result';
    case 'remote-error':
      return entry.plan === 'error';
    case 'timeout':
      return entry.plan === 'hang';
    case 'cancelled':
      // Reasons are only added while the call is pending, so each is from before it ended.
      return isToolProxyError(error) && entry.reasons.some((r) => r === error.reason);
    case 'provider-gone':
    case 'send-failed':
      return before(entry.provider?.leftSeq);
    case 'tool-unregistered':
      // A ToolProvider that leaves on purpose withdraws its tools first (ToolProvider.close()).
      return before(entry.registration?.withdrawnSeq) || before(entry.provider?.leftSeq);
    case 'invalid-result':
      return false;
  }
}

/**
 * A provider stops work only when told, and for what the caller was told: a call cancelled while
 * its provider was busy with it looks the same to the caller whether or not the provider had
 * already dropped it, so the provider's side is checked on its own.
 */
function stoppedRightly(
  entry: Entry,
  outcome: CallOutcome,
  error: unknown,
  left: boolean,
): boolean {
  const stopped = entry.workStopped;
  if (stopped === undefined) return true;
  if (stopped === 'abandoned' && left) return true;
  switch (outcome) {
    case 'result':
    case 'remote-error':
    case 'invalid-result':
      return false;
    case 'timeout':
      return stopped === 'timeout';
    case 'cancelled':
    case 'tool-unregistered':
      return isToolProxyError(error) && stopped === `cancelled:${String(error.reason)}`;
    case 'provider-gone':
    case 'send-failed':
      return left;
  }
}

function sameN(value: unknown, n: number): boolean {
  return typeof value === 'object' && value !== null && (value as { n?: unknown }).n === n;
}

function describe(error: unknown): string {
  return isToolProxyError(error) ? `(${error.code} ${error.reason ?? ''})` : '';
}
