/**
 * `claude -p`: SIGINT or SIGTERM to Claude Code while `slow_job` runs, one run per round, in the
 * world of test/real-peers/claude-code-world.ts (the example's `.mcp.json` and hooks, the mock
 * Messages API, serve and the provider in this process). The world's clock is
 * `performance.timeOrigin + performance.now()`, so its times subtract as this process's do.
 */
import { type ClaudeWorld, clock } from '../../real-peers/claude-code-world.js';
import { killAll } from '../../real-peers/peer-process.js';
import type { InstalledPeer } from '../../support/mcp-peers.js';
import { type AgentCaseResult, type StopRound, waitFor } from './rounds.js';

export async function claudePrintCase(
  world: ClaudeWorld,
  peer: InstalledPeer,
  signal: 'SIGINT' | 'SIGTERM',
  rounds: number,
  log: (message: string) => void,
): Promise<AgentCaseResult> {
  const measured: StopRound[] = [];
  for (let round = 0; round < rounds; round++) {
    const label = `bench-${signal}-${round}`;
    try {
      const run = world.print(label, 25);
      const job = await world.job(label);
      const interruptAt = clock();
      run.child.kill(signal);
      const abortAt = await waitFor(`${label}'s abort`, () => job.abortedAt, 20_000);
      const settled = await world.settledCall(job.callId);
      if (settled.outcome !== 'cancelled')
        throw new Error(`bench: claude -p's call settled as ${settled.outcome} after ${signal}`);
      await run.exited;
      measured.push({
        interruptAt,
        serveAt: settled.at,
        abortAt,
        reason: settled.reason ?? 'none',
      });
      log(
        `claude -p ${signal} round ${round + 1}/${rounds}: ${(abortAt - interruptAt).toFixed(1)} ms`,
      );
    } finally {
      killAll();
    }
  }
  return {
    id: signal === 'SIGINT' ? 'claude-p-sigint' : 'claude-p-sigterm',
    label: `claude -p: ${signal} mid-call → provider abort`,
    peer: `${peer.package}@${peer.version}`,
    rounds: measured,
  };
}
