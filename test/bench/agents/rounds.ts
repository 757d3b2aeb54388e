/**
 * What one agent's stop costs, round by round: three moments on this process's clock
 * (`performance.now()`, or a constant offset of it), taken where the bench can see them. The
 * interrupt is the bench delivering it to the agent (a signal, a key, hermes' hook call); serve is
 * `call:settled` (cancelled) on the in-process proxy, the moment the stop reached toolproxy; the
 * abort is the provider tool's AbortSignal firing, in the in-process provider.
 */
import { percentile, summarize } from '../stats.js';

export interface StopRound {
  readonly interruptAt: number;
  /** When serve settled the call as cancelled. */
  readonly serveAt: number;
  /** When the provider's AbortSignal fired. */
  readonly abortAt: number;
  /** The cancel reason serve gave the call (which path reached it first). */
  readonly reason: string;
  /** Further intervals this case can split out, in ms (hermes: command → invoke_hook). */
  readonly extra?: Readonly<Record<string, number>>;
}

/** One agent's stop path: how it is driven, and the rounds measured. */
export interface AgentCaseResult {
  readonly id: AgentCaseId;
  readonly label: string;
  /** The agent's name and version, as the peers cache has it. */
  readonly peer: string;
  readonly rounds: readonly StopRound[];
}

export type AgentCaseId =
  | 'hermes-invoke-hook'
  | 'docker-agent-sigint'
  | 'claude-p-sigint'
  | 'claude-p-sigterm'
  | 'claude-esc';

export const AGENT_CASE_IDS: readonly AgentCaseId[] = [
  'hermes-invoke-hook',
  'docker-agent-sigint',
  'claude-p-sigint',
  'claude-p-sigterm',
  'claude-esc',
];

/** A case that could not run (its peer is missing) or failed part-way, and why. */
export interface AgentCaseUnavailable {
  readonly id: AgentCaseId;
  readonly reason: string;
}

export interface Spread {
  readonly median: number;
  readonly p95: number;
  readonly max: number;
}

export function spread(values: readonly number[]): Spread {
  const { median, max } = summarize(values);
  return { median, p95: percentile(values, 95), max };
}

export interface CaseFigures {
  /** interrupt → provider abort */
  readonly total: Spread;
  /** interrupt → serve settled the call */
  readonly toServe: Spread;
  /** serve settled the call → provider abort */
  readonly serveToProvider: Spread;
  readonly extra: Readonly<Record<string, Spread>>;
  /** How often each cancel reason was the one serve applied. */
  readonly reasons: Readonly<Record<string, number>>;
}

export function figures(rounds: readonly StopRound[]): CaseFigures {
  const reasons: Record<string, number> = {};
  for (const round of rounds) reasons[round.reason] = (reasons[round.reason] ?? 0) + 1;
  const extraNames = [...new Set(rounds.flatMap((round) => Object.keys(round.extra ?? {})))];
  const extra: Record<string, Spread> = {};
  for (const name of extraNames)
    extra[name] = spread(rounds.map((round) => round.extra?.[name] ?? Number.NaN));
  return {
    total: spread(rounds.map((round) => round.abortAt - round.interruptAt)),
    toServe: spread(rounds.map((round) => round.serveAt - round.interruptAt)),
    serveToProvider: spread(rounds.map((round) => round.abortAt - round.serveAt)),
    extra,
    reasons,
  };
}

/** Polls `probe` on the event loop (every 5 ms) until it gives a value; throws past `limitMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined,
  limitMs = 30_000,
): Promise<T> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`bench: ${what}: not within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
