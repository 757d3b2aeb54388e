/**
 * What the proxy has learnt about which agent session a caller's connection, or a call, belongs to.
 * Real agents do not say it on the call itself, so it is learnt from evidence: a hook that names the
 * session and an id the call carries too (a tool-use id, the call's input), or a connection whose
 * calls have so far all belonged to one session.
 *
 * - A **channel** (a caller's connection: an MCP session, a stdio client) seen with one session is
 *   bound to it; seen with a second, it is shared and binds nothing (hermes' MCP client serves
 *   every chat over one MCP session).
 * - A **correlation** named by a hook before its call arrives is remembered for a short while, for
 *   that call. Two hooks naming the same correlation for different sessions make it ambiguous: it
 *   then binds nothing, rather than guess.
 * - A session is **known** once evidence placed a call, a channel or a correlation in it. A stop for
 *   an unknown session cannot tell its calls from anyone's, so it also takes the unbound ones.
 * Everything here is bounded: old entries go first.
 */

const SHARED = Symbol('shared');
const AMBIGUOUS = Symbol('ambiguous');

export interface SessionScopeLimits {
  /** Channels remembered at once. */
  readonly channels: number;
  /** Hook-first correlations remembered at once. */
  readonly correlations: number;
  /** How long a hook-first correlation waits for its call, ms. */
  readonly correlationTtlMs: number;
  /** Sessions remembered as known. */
  readonly sessions: number;
}

export const DEFAULT_SESSION_SCOPE_LIMITS: SessionScopeLimits = {
  channels: 4_096,
  correlations: 1_024,
  correlationTtlMs: 60_000,
  sessions: 4_096,
};

interface Remembered {
  readonly session: string | typeof AMBIGUOUS;
  readonly tool: string | undefined;
  readonly expiresAt: number;
}

export type ChannelBinding = 'bound' | 'unchanged' | 'shared';

export class SessionScopes {
  readonly #limits: SessionScopeLimits;
  readonly #now: () => number;
  readonly #channels = new Map<string, string | typeof SHARED>();
  readonly #remembered = new Map<string, Remembered>();
  readonly #known = new Set<string>();

  constructor(now: () => number, limits: SessionScopeLimits = DEFAULT_SESSION_SCOPE_LIMITS) {
    this.#now = now;
    this.#limits = limits;
  }

  /** The session `channel` is bound to, if it is bound to exactly one. */
  sessionOfChannel(channel: string | undefined): string | undefined {
    if (channel === undefined) return undefined;
    const bound = this.#channels.get(channel);
    return typeof bound === 'string' ? bound : undefined;
  }

  /**
   * Takes the session a hook remembered for one of `correlations` (for a call of `tool`), once:
   * the entry is consumed, by the call it was for, even one that binds nothing (an ambiguous entry,
   * or a call that named its session). Expired entries bind nothing.
   */
  takeRemembered(correlations: readonly string[], tool: string): string | undefined {
    let found: string | undefined;
    for (const correlation of correlations) {
      const entry = this.#remembered.get(correlation);
      if (entry === undefined) continue;
      if (entry.tool !== undefined && !toolNamesMatch(entry.tool, tool)) continue;
      this.#remembered.delete(correlation);
      if (entry.expiresAt <= this.#now() || entry.session === AMBIGUOUS) continue;
      found ??= entry.session;
    }
    return found;
  }

  /** Remembers a hook's session for the call that will carry `correlation`. */
  remember(correlation: string, session: string, tool: string | undefined): void {
    const previous = this.#remembered.get(correlation);
    const now = this.#now();
    const clash =
      previous !== undefined && previous.expiresAt > now && previous.session !== session;
    this.#remembered.delete(correlation); // re-inserted last: the map's order is age order
    this.#remembered.set(correlation, {
      session: clash ? AMBIGUOUS : session,
      tool,
      expiresAt: now + this.#limits.correlationTtlMs,
    });
    trim(this.#remembered, this.#limits.correlations);
    this.markKnown(session);
  }

  /** Records that `channel` carried a call of `session`. */
  bindChannel(channel: string, session: string): ChannelBinding {
    const bound = this.#channels.get(channel);
    if (bound === SHARED) return 'shared';
    if (bound === session) return 'unchanged';
    this.#channels.delete(channel);
    this.#channels.set(channel, bound === undefined ? session : SHARED);
    trim(this.#channels, this.#limits.channels);
    return bound === undefined ? 'bound' : 'shared';
  }

  /** The channel is gone (its MCP session closed): nothing more to infer from it. */
  forgetChannel(channel: string): void {
    this.#channels.delete(channel);
  }

  markKnown(session: string): void {
    this.#known.delete(session);
    this.#known.add(session);
    trim(this.#known, this.#limits.sessions);
  }

  isKnown(session: string): boolean {
    return this.#known.has(session);
  }

  /**
   * The session ended or was reset: its channels may now serve another session (Claude Code's
   * `/clear` keeps its MCP session), so they are unbound, and what was remembered for it goes.
   */
  forgetSession(session: string): void {
    this.#known.delete(session);
    for (const [channel, bound] of this.#channels) {
      if (bound === session) this.#channels.delete(channel);
    }
    for (const [correlation, entry] of this.#remembered) {
      if (entry.session === session) this.#remembered.delete(correlation);
    }
  }

  /** Entries held now (for leak checks). */
  get size(): { channels: number; correlations: number; sessions: number } {
    return {
      channels: this.#channels.size,
      correlations: this.#remembered.size,
      sessions: this.#known.size,
    };
  }
}

/**
 * Whether an agent's name for a tool is the proxy's exposed `name`: the same, or the agent's
 * prefix for the server before it (`mcp__toolproxy__move_arm`, `toolproxy_move_arm`).
 */
export function toolNamesMatch(agentName: string, name: string): boolean {
  if (agentName === name) return true;
  if (!agentName.endsWith(name)) return false;
  const before = agentName.charAt(agentName.length - name.length - 1);
  return before === '_' || before === ':' || before === '.' || before === '/' || before === '-';
}

/** Drops the oldest entries (first in insertion order) past `max`. */
function trim(entries: Map<string, unknown> | Set<string>, max: number): void {
  while (entries.size > max) {
    const oldest = entries.keys().next();
    if (oldest.done === true) return;
    entries.delete(oldest.value);
  }
}
