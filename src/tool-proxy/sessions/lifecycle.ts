/**
 * The rules of the lifecycle command, in one place: which events cancel (and with what reason),
 * how an event names its session, what detail a cancel notice carries, which events end a session.
 * The hook ingress, the LiveKit Agents binding and the in-process API all go through
 * `ToolProxy.lifecycle`, which applies these.
 */
import { cancelledError } from '../calls/messages.js';
import type { CancelReason } from '../../shared/errors.js';
import type { LifecycleEventName, LifecycleEvents } from '../hooks/events.js';
import type { SessionCancel, SessionRouter } from './session-router.js';

/** How `ToolProxy.lifecycle` takes one event. */
export interface LifecycleOptions {
  /**
   * How long ago the agent raised the event, in ms (a whole number, 0 or more): a cancelling event
   * then takes only the calls that started at or before that moment. Absent: raised now.
   */
  readonly ageMs?: number | undefined;
}

/** The moment an event of `options` was raised, on the clock `now` reads; undefined: now. */
export function raisedAt(options: LifecycleOptions, now: number): number | undefined {
  const { ageMs } = options;
  if (ageMs === undefined) return undefined;
  if (!Number.isSafeInteger(ageMs) || ageMs < 0)
    throw new RangeError(`lifecycle: ageMs must be a whole number of ms, 0 or more, not ${ageMs}`);
  return now - ageMs;
}

/** What `ToolProxy.lifecycle` did with one event. */
export interface LifecycleOutcome extends SessionCancel {
  readonly event: LifecycleEventName;
  /** The session the event names (its `session_key`, else its `session_id`). */
  readonly session: string | undefined;
  /** The reason its calls were cancelled with; undefined for an event that cancels nothing. */
  readonly reason: CancelReason | undefined;
  /** `scoped + unscoped`. */
  readonly cancelled: number;
}

/** The events that cancel calls, and the reason their calls are cancelled with. */
const CANCEL_REASON_OF: Partial<Record<LifecycleEventName, CancelReason>> = {
  agent_loop_stopped: 'agent-loop-stopped',
  'session:end': 'session-ended',
  'session:reset': 'session-reset',
};

/** Events after which the session's bindings are forgotten (its connections may serve another). */
const ENDS_SESSION: ReadonlySet<LifecycleEventName> = new Set(['session:end', 'session:reset']);

/**
 * Applies one lifecycle event: cancels what it cancels, forgets what it ends. With `startedBy`
 * (the moment the event was raised), only calls started at or before it are cancelled.
 */
export function applyLifecycle<K extends LifecycleEventName>(
  router: SessionRouter,
  name: K,
  event: LifecycleEvents[K],
  startedBy?: number,
): LifecycleOutcome {
  const session = sessionOf(event);
  const reason = cancelReasonOf(name);
  if (reason === undefined)
    return { event: name, session, reason, rule: 'none', scoped: 0, unscoped: 0, cancelled: 0 };
  const error = cancelledError(reason, cancelDetailOf(name, event));
  const cancel = router.cancel(session, error, endsSession(name), startedBy);
  return { event: name, session, reason, ...cancel, cancelled: cancel.scoped + cancel.unscoped };
}

/** The cancel reason of `name`, or undefined for an event that cancels nothing. */
export function cancelReasonOf(name: LifecycleEventName): CancelReason | undefined {
  return CANCEL_REASON_OF[name];
}

export function endsSession(name: LifecycleEventName): boolean {
  return ENDS_SESSION.has(name);
}

/**
 * The session an event names: its `session_key`, else its `session_id` (agents whose events carry
 * only an id name the session by it). Empty strings name nothing.
 */
export function sessionOf(event: {
  session_key?: string | undefined;
  session_id?: string | undefined;
}): string | undefined {
  const key = event.session_key;
  if (key !== undefined && key !== '') return key;
  const id = event.session_id;
  return id !== undefined && id !== '' ? id : undefined;
}

/** The free-form detail a cancel notice carries for `name`. */
export function cancelDetailOf<K extends LifecycleEventName>(
  name: K,
  event: LifecycleEvents[K],
): string | undefined {
  if (name === 'agent_loop_stopped') {
    const stopped = event as LifecycleEvents['agent_loop_stopped'];
    return joinDetail(stopped.reason, stopped.invalidation_reason);
  }
  const reason = (event as { reason?: string | undefined }).reason;
  return reason === '' ? undefined : reason;
}

function joinDetail(...parts: Array<string | undefined>): string | undefined {
  const present = parts.filter((part): part is string => part !== undefined && part !== '');
  return present.length === 0 ? undefined : present.join('; ');
}
