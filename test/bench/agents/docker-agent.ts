/**
 * docker-agent: Ctrl+C (SIGINT to its process group) in the middle of a `move_arm` call, one
 * `run --exec` turn per round, in the world of test/real-peers/docker-agent-world.ts (the shipped
 * agent.yaml, the mock OpenAI-compatible model, serve and the provider in this process).
 */
import type { InstalledPeer } from '../../support/mcp-peers.js';
import { callToolThenAnswer } from '../../support/mock-openai.js';
import { runDockerAgent, startWorld, TOOL } from '../../real-peers/docker-agent-world.js';
import { killAll, scratchHome } from '../../real-peers/peer-process.js';
import { type AgentCaseResult, type StopRound, waitFor } from './rounds.js';

export async function dockerAgentCase(
  peer: InstalledPeer,
  rounds: number,
  log: (message: string) => void,
): Promise<AgentCaseResult> {
  const world = await startWorld(
    callToolThenAnswer(TOOL, { x: 1, y: 2, duration_ms: 25_000 }, 'done'),
  );
  try {
    const measured: StopRound[] = [];
    for (let round = 0; round < rounds; round++) {
      const home = scratchHome();
      try {
        const run = runDockerAgent(
          peer.path,
          world,
          home.path,
          `Move the arm to (1, 2), round ${round}`,
        );
        const record = await waitFor(
          'the provider to get the call',
          () => world.runs[round],
          60_000,
        );
        const { pid } = run.child;
        if (pid === undefined) throw new Error('bench: docker-agent has no pid');
        const interruptAt = performance.now();
        process.kill(-pid, 'SIGINT'); // Ctrl+C in a terminal: the whole process group
        const abortAt = await waitFor(
          'the provider to be told to stop',
          () => record.stoppedAt,
          20_000,
        );
        const settled = await waitFor('serve to settle the call', () =>
          world.settled.find((entry) => entry.callId === record.callId),
        );
        if (settled.outcome !== 'cancelled')
          throw new Error(`bench: docker-agent's interrupted call settled as ${settled.outcome}`);
        await run.exited;
        measured.push({
          interruptAt,
          serveAt: settled.at,
          abortAt,
          reason: settled.reason ?? 'none',
        });
        log(`docker-agent round ${round + 1}/${rounds}: ${(abortAt - interruptAt).toFixed(1)} ms`);
      } finally {
        killAll();
        home.remove();
      }
    }
    return {
      id: 'docker-agent-sigint',
      label: 'docker-agent run --exec: SIGINT mid-call → provider abort',
      peer: `${peer.package}@${peer.version}`,
      rounds: measured,
    };
  } finally {
    await world.close();
  }
}
