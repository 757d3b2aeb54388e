/**
 * The agents bench as a function: for each real agent in the peers cache, N rounds of "the agent
 * is interrupted mid-call → the provider's AbortSignal fires", each case after the other. A case
 * whose agent is not installed is reported as not measured (with TOOLPROXY_REQUIRE_REAL_PEERS=1 it
 * fails instead, as the real-peer suites do). `run.ts` is the command line; the smoke test calls
 * it with 1–2 rounds.
 */
import { cpus, loadavg } from 'node:os';
import { startClaudeWorld } from '../../real-peers/claude-code-world.js';
import { tmuxMissing } from '../../real-peers/claude-code-tmux.js';
import { killAll } from '../../real-peers/peer-process.js';
import { findMcpPeer, type McpPeerId, REQUIRE_REAL_PEERS } from '../../support/mcp-peers.js';
import { claudeEscCase } from './claude-esc.js';
import { claudePrintCase } from './claude-print.js';
import { dockerAgentCase } from './docker-agent.js';
import { hermesCase } from './hermes.js';
import {
  AGENT_CASE_IDS,
  type AgentCaseId,
  type AgentCaseResult,
  type AgentCaseUnavailable,
  type CaseFigures,
  figures,
} from './rounds.js';

export interface AgentsBenchConfig {
  readonly rounds: number;
  readonly only?: readonly AgentCaseId[];
  readonly log?: (message: string) => void;
}

export interface AgentsReport {
  readonly meta: {
    readonly date: string;
    readonly rounds: number;
    readonly node: string;
    readonly cpus: number;
    readonly cpu: string;
    /** 1, 5 and 15 minute load averages when the bench started and when it ended. */
    readonly loadBefore: readonly number[];
    readonly loadAfter: readonly number[];
    readonly durationS: number;
  };
  readonly cases: ReadonlyArray<AgentCaseResult & { readonly figures: CaseFigures }>;
  readonly unavailable: readonly AgentCaseUnavailable[];
}

const PEER_OF: Record<AgentCaseId, McpPeerId> = {
  'hermes-invoke-hook': 'hermes-agent',
  'docker-agent-sigint': 'docker-agent',
  'claude-p-sigint': 'claude-code',
  'claude-p-sigterm': 'claude-code',
  'claude-esc': 'claude-code',
};

export async function runAgentsBench(config: AgentsBenchConfig): Promise<AgentsReport> {
  const { rounds } = config;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('bench: rounds must be ≥ 1');
  const log = config.log ?? (() => {});
  const wanted = AGENT_CASE_IDS.filter((id) => config.only?.includes(id) ?? true);
  const started = performance.now();
  const loadBefore = loadavg();
  const results: AgentCaseResult[] = [];
  const unavailable: AgentCaseUnavailable[] = [];

  const missing = (id: AgentCaseId, reason: string) => {
    if (REQUIRE_REAL_PEERS) throw new Error(`bench: ${id} needs its real peer: ${reason}`);
    log(`bench: ${id}: not measured: ${reason}`);
    unavailable.push({ id, reason });
  };
  /** Runs one case; a failure is reported for it (and thrown when peers are required). */
  const attempt = async (id: AgentCaseId, run: () => Promise<AgentCaseResult>) => {
    try {
      results.push(await run());
    } catch (error) {
      killAll();
      if (REQUIRE_REAL_PEERS) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      log(`bench: ${id} failed: ${reason}`);
      unavailable.push({ id, reason: `failed: ${reason.split('\n', 1)[0] ?? reason}` });
    }
  };

  for (const id of wanted.filter((one) => PEER_OF[one] !== 'claude-code')) {
    const lookup = findMcpPeer(PEER_OF[id]);
    if (!lookup.found) {
      missing(id, lookup.why);
      continue;
    }
    const { peer } = lookup;
    await attempt(id, () =>
      id === 'hermes-invoke-hook'
        ? hermesCase(peer, rounds, log)
        : dockerAgentCase(peer, rounds, log),
    );
  }

  const claudeCases = wanted.filter((one) => PEER_OF[one] === 'claude-code');
  if (claudeCases.length > 0) {
    const lookup = findMcpPeer('claude-code');
    if (!lookup.found) {
      for (const id of claudeCases) missing(id, lookup.why);
    } else {
      const { peer } = lookup;
      const world = await startClaudeWorld(peer);
      try {
        for (const id of claudeCases) {
          if (id === 'claude-esc') {
            const noTmux = tmuxMissing();
            if (noTmux !== undefined) {
              missing(id, noTmux);
              continue;
            }
            await attempt(id, () => claudeEscCase(world, peer, rounds, log));
          } else {
            const signal = id === 'claude-p-sigint' ? 'SIGINT' : 'SIGTERM';
            await attempt(id, () => claudePrintCase(world, peer, signal, rounds, log));
          }
        }
        const egress = world.trap.attempts();
        if (egress.length > 0)
          throw new Error(
            `bench: Claude Code tried to reach beyond loopback: ${JSON.stringify(egress)}`,
          );
      } finally {
        await world.close();
      }
    }
  }

  return {
    meta: {
      date: new Date().toISOString(),
      rounds,
      node: process.version,
      cpus: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      loadBefore,
      loadAfter: loadavg(),
      durationS: Math.round((performance.now() - started) / 100) / 10,
    },
    cases: results.map((result) => ({ ...result, figures: figures(result.rounds) })),
    unavailable,
  };
}
