/**
 * Places calls in agent sessions and cancels by session. A call's session comes from what its
 * caller really sends, in this order: the session the caller names (an explicit key, hermes'
 * context, a stdio client's session id); a hook that named one of the call's correlations before
 * the call arrived; the session its channel is bound to. A hook arriving after its call moves the
 * call (unless the caller named the session). A call placed in a session binds its channel, and
 * the channel's unbound calls follow.
 *
 * A stop for session S cancels the calls placed in S. Calls placed in no session are cancelled
 * too only when S is unknown (nothing ever placed anything in S), since S's calls could then be
 * any of them; an event naming no session cancels every call.
 */
import type { ToolProxyError } from '../../shared/errors.js';
import type { CallTable } from '../calls/call-table.js';
import type { PendingCall } from '../calls/pending-call.js';
import { type SessionScopes, toolNamesMatch } from './session-scopes.js';

/** Which calls a lifecycle event cancelled. */
export type CancelRule =
  /** The event cancels nothing (`session:start`, `stop`, `notification`). */
  | 'none'
  /** A known session: its own calls only. */
  | 'session'
  /** A session nothing was ever placed in: its calls (none known) and every unbound call. */
  | 'session-and-unbound'
  /** The event named no session: every call. */
  | 'every-call';

export interface SessionCancel {
  readonly rule: CancelRule;
  /** Calls placed in the session. */
  readonly scoped: number;
  /** Other calls the rule took: unbound ones, or every call for an event naming no session. */
  readonly unscoped: number;
  /** With a start-time bound: calls the rule applies to that started later, left pending. */
  readonly spared?: number;
}

/** A hook's word that the call carrying `correlation` belongs to `session`. */
export interface SessionEvidence {
  readonly session: string;
  readonly correlation: string;
  /** The agent's name for the tool, when the correlation alone could match another tool's call. */
  readonly tool?: string | undefined;
}

export type BindingResult =
  /** A pending call carried it and is now in the session (or already was). */
  | 'call'
  /** No call carries it yet: remembered for the call that will. */
  | 'remembered'
  /** Several pending calls carry it: none is moved rather than guess. */
  | 'ambiguous';

export interface CallPlacement {
  readonly sessionKey?: string | undefined;
  readonly channel?: string | undefined;
  readonly correlations?: readonly string[] | undefined;
}

type FailAll = (calls: readonly PendingCall[], error: ToolProxyError) => void;

export class SessionRouter {
  readonly #table: CallTable;
  readonly #scopes: SessionScopes;
  readonly #failAll: FailAll;

  constructor(table: CallTable, scopes: SessionScopes, failAll: FailAll) {
    this.#table = table;
    this.#scopes = scopes;
    this.#failAll = failAll;
  }

  /** The session a new call of `tool` belongs to, from what its caller sent. */
  resolve(placement: CallPlacement, tool: string): string | undefined {
    const { sessionKey, channel, correlations } = placement;
    const remembered =
      correlations === undefined || correlations.length === 0
        ? undefined
        : this.#scopes.takeRemembered(correlations, tool);
    if (sessionKey !== undefined && sessionKey !== '') return sessionKey;
    return remembered ?? this.#scopes.sessionOfChannel(channel);
  }

  /** A call just entered the table: what it tells about its channel. */
  started(call: PendingCall): void {
    if (call.session === undefined) return;
    this.#scopes.markKnown(call.session);
    if (call.spec.channel !== undefined) this.#bindChannel(call.spec.channel, call.session);
  }

  bind(evidence: SessionEvidence): BindingResult {
    const { session, correlation, tool } = evidence;
    const candidates = this.#table
      .withCorrelation(correlation)
      .filter((call) => tool === undefined || toolNamesMatch(tool, call.spec.tool.exposedName));
    if (candidates.length > 1) return 'ambiguous';
    const call = candidates[0];
    if (call === undefined) {
      this.#scopes.remember(correlation, session, tool);
      return 'remembered';
    }
    this.#scopes.markKnown(session);
    if (!call.spec.sessionPinned) this.#table.rebind(call, session);
    if (call.spec.channel !== undefined) this.#bindChannel(call.spec.channel, session);
    return 'call';
  }

  /**
   * Cancels what a stop of `session` applies to (see the file comment); with `startedBy`, only the
   * calls that started at or before it (a stop raised then, delivered late, leaves the calls made
   * since: the next turn's).
   */
  cancel(
    session: string | undefined,
    error: ToolProxyError,
    forget: boolean,
    startedBy?: number,
  ): SessionCancel {
    const bounded = startedBy !== undefined;
    if (session === undefined) {
      const { unbound, spared } = this.#table.takeSession(undefined, true, startedBy);
      this.#failAll(unbound, error);
      return {
        rule: 'every-call',
        scoped: 0,
        unscoped: unbound.length,
        ...(bounded ? { spared } : {}),
      };
    }
    const known = this.#scopes.isKnown(session) || this.#table.hasSession(session);
    const { own, unbound, spared } = this.#table.takeSession(session, !known, startedBy);
    this.#failAll(own, error);
    this.#failAll(unbound, error);
    if (forget) this.#scopes.forgetSession(session);
    return {
      rule: known ? 'session' : 'session-and-unbound',
      scoped: own.length,
      unscoped: unbound.length,
      ...(bounded ? { spared } : {}),
    };
  }

  /** The caller behind `channel` is gone: its calls end, and nothing more is inferred from it. */
  cancelChannel(channel: string, error: ToolProxyError): number {
    const calls = this.#table.forChannel(channel);
    this.#failAll(calls, error);
    this.#scopes.forgetChannel(channel);
    return calls.length;
  }

  /** Binds `channel` to `session`; a newly bound channel's unbound calls join the session. */
  #bindChannel(channel: string, session: string): void {
    if (this.#scopes.bindChannel(channel, session) !== 'bound') return;
    for (const other of this.#table.forChannel(channel)) {
      if (other.session === undefined) this.#table.rebind(other, session);
    }
  }
}
