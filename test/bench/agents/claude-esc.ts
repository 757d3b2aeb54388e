/**
 * Interactive Claude Code under tmux (test/real-peers/claude-code-tmux.ts): Esc while `slow_job`
 * runs. A terminal of its own per round, so each round is a fresh conversation the mock scripts
 * from the start (ToolSearch, then the tool): the first round takes the README's first-start steps
 * (trust the folder, use the project's MCP server), which Claude Code then remembers. The
 * interrupt is the moment the bench runs `tmux send-keys Escape`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ClaudeWorld, clock, MCP_TOOL } from '../../real-peers/claude-code-world.js';
import { Terminal } from '../../real-peers/claude-code-tmux.js';
import type { InstalledPeer } from '../../support/mcp-peers.js';
import { type AgentCaseResult, type StopRound, waitFor } from './rounds.js';

const READY = /shift\+tab to cycle/;

async function startTerminal(
  world: ClaudeWorld,
  peer: InstalledPeer,
  label: string,
  firstStart: boolean,
): Promise<Terminal> {
  const dir = join(world.scratch, label);
  mkdirSync(dir, { recursive: true });
  const terminal = await Terminal.start({
    dir,
    cwd: world.project,
    env: world.env(),
    command: [peer.path, '--allowedTools', MCP_TOOL, '--debug-file', world.debugLog(label)],
  });
  try {
    if (firstStart) {
      await terminal.waitFor(/Yes, I trust this folder/);
      await terminal.choose('Yes, I trust this folder', 'Down');
      await terminal.waitFor(/New MCP server found in this project: toolproxy/);
      await terminal.choose('Use this MCP server', 'Up');
    }
    await terminal.waitFor(READY);
    return terminal;
  } catch (error) {
    await terminal.close();
    throw error;
  }
}

export async function claudeEscCase(
  world: ClaudeWorld,
  peer: InstalledPeer,
  rounds: number,
  log: (message: string) => void,
): Promise<AgentCaseResult> {
  const measured: StopRound[] = [];
  for (let round = 0; round < rounds; round++) {
    const label = `bench-esc-${round}`;
    const terminal = await startTerminal(world, peer, label, round === 0);
    try {
      await terminal.submit(world.prompt(label, 25), /esc to interrupt/);
      const job = await terminal.showing(world.job(label, 30_000));
      const interruptAt = clock();
      await terminal.keys('Escape');
      const keysReturnedAt = clock(); // the tmux client has handed the key to the server
      const abortAt = await terminal.showing(
        waitFor(`${label}'s abort`, () => job.abortedAt, 20_000),
      );
      const settled = await world.settledCall(job.callId);
      if (settled.outcome !== 'cancelled')
        throw new Error(`bench: the call settled as ${settled.outcome} after Esc`);
      await terminal.waitFor(/Interrupted/);
      measured.push({
        interruptAt,
        serveAt: settled.at,
        abortAt,
        reason: settled.reason ?? 'none',
        extra: { 'tmux send-keys returned': keysReturnedAt - interruptAt },
      });
      log(`claude Esc round ${round + 1}/${rounds}: ${(abortAt - interruptAt).toFixed(1)} ms`);
    } finally {
      await terminal.close();
    }
  }
  return {
    id: 'claude-esc',
    label: 'Claude Code interactive (tmux): Esc mid-call → provider abort',
    peer: `${peer.package}@${peer.version}`,
    rounds: measured,
  };
}
