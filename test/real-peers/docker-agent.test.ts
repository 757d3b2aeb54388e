/**
 * The real docker-agent (built from its Go module by scripts/ensure-docker-agent.mjs) against an
 * in-process `toolproxy serve`, running the shipped examples/docker-agent/agent.yaml with only the
 * model and serve's address changed (docker-agent-world.ts), a mock OpenAI-compatible model that
 * scripts each turn (a call of `move_arm`, then text), and a provider whose `move_arm` runs until
 * its duration is up or the proxy tells it to stop. Checked: one `run --exec` turn end to end;
 * Ctrl+C (SIGINT) in the middle of a call stops the provider (and how fast: printed); two
 * concurrent sessions are scoped apart by the example's `pre_tool_use` hook.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { countRealPeerTests } from '../support/peer-count.js';
import { mcpPeerGate } from '../support/mcp-peers.js';
import {
  callToolThenAnswer,
  lastUserText,
  messageText,
  toolResults,
} from '../support/mock-openai.js';
import {
  type DockerAgentWorld,
  runDockerAgent,
  startWorld,
  TOOL,
  until,
} from './docker-agent-world.js';
import { killAll, type PeerRun, scratchHome } from './peer-process.js';

const gate = mcpPeerGate('docker-agent real-peer tests', ['docker-agent']);

/** What a stop of the session may show up as on the call, whichever path reaches serve first. */
const STOP_REASONS = ['agent-loop-stopped', 'session-ended', 'caller-aborted', 'caller-gone'];

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  killAll();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function world(...args: Parameters<typeof startWorld>): Promise<DockerAgentWorld> {
  const started = await startWorld(...args);
  cleanups.push(() => started.close());
  return started;
}

function home(): string {
  const dir = scratchHome();
  cleanups.push(() => dir.remove());
  return dir.path;
}

/** Ctrl+C in a terminal: SIGINT to the agent's whole process group. */
function interrupt(run: PeerRun): number {
  const { pid } = run.child;
  if (pid === undefined) throw new Error('docker-agent has no pid');
  const at = performance.now();
  process.kill(-pid, 'SIGINT');
  return at;
}

describe.skipIf(gate.skip)('docker-agent against toolproxy serve', { timeout: 240_000 }, () => {
  countRealPeerTests('docker-agent');
  let bin: string;

  beforeAll(() => {
    bin = gate.peers()['docker-agent'].path;
  });

  it('run --exec: one turn, the tool called through the MCP toolset on serve, its result in the next model request', async () => {
    const answer = 'The arm is at (40, 12).';
    const args = { x: 40, y: 12, duration_ms: 200 };
    const w = await world(callToolThenAnswer(TOOL, args, answer));
    const run = runDockerAgent(bin, w, home(), 'Move the arm to (40, 12)');
    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stdout).toContain(answer);

    // The model was offered the tool under its MCP name and called it once, with these arguments.
    const [first] = w.model.requests;
    expect(first?.body.tools?.map((tool) => tool.function.name)).toContain(TOOL);
    expect(w.runs.map((record) => record.arguments)).toEqual([args]);

    // The request after the call carries the provider's result as the tool message.
    const withResult = w.model.requests.find((request) => toolResults(request.body).length > 0);
    const results = withResult === undefined ? [] : toolResults(withResult.body);
    expect(results).toHaveLength(1);
    expect(results[0]?.tool_call_id).toMatch(/^call_mock_/);
    expect(messageText(results[0]!)).toMatch(/"at":\s*\[\s*40,\s*12\s*\]/);

    // pre_tool_use placed the call in docker-agent's session; its stop hook named the same one.
    const [settled] = w.settled;
    expect(settled).toMatchObject({ outcome: 'result' });
    expect(settled?.sessionKey).toEqual(expect.any(String));
    expect(w.lifecycle).toContainEqual(
      expect.objectContaining({ name: 'stop', session: settled?.sessionKey }),
    );
  });

  it('Ctrl+C (SIGINT) in the middle of a call: the provider is told to stop at once; session_end reaches serve too', async () => {
    const w = await world(callToolThenAnswer(TOOL, { x: 1, y: 2, duration_ms: 25_000 }, 'done'));
    const run = runDockerAgent(bin, w, home(), 'Move the arm to (1, 2)');
    const record = await until('the provider to get the call', () => w.runs[0]);
    const sentAt = interrupt(run);
    const stoppedAt = await until(
      'the provider to be told to stop',
      () => record.stoppedAt,
      20_000,
    );
    const exit = await run.exited;
    const exitedAt = performance.now();

    // docker-agent cancels the MCP request (notifications/cancelled, and its response stream
    // closes): serve stops the call as caller-aborted or caller-gone before any hook has run.
    const settled = w.settled.find((entry) => entry.callId === record.callId);
    expect(settled).toMatchObject({ outcome: 'cancelled' });
    expect(STOP_REASONS).toContain(settled?.reason);
    const session = settled?.sessionKey;
    expect(session).toEqual(expect.any(String));
    // session_end runs even on an interrupt (v1.124.0 reports turn_end as "continue" here, not
    // "canceled": the interrupted tool call ends its batch, then the loop sees the cancel).
    const ended = await until('session_end', () =>
      w.lifecycle.find((event) => event.name === 'session:end' && event.session === session),
    );
    const loopStopped = w.lifecycle.find(
      (event) => event.name === 'agent_loop_stopped' && event.session === session,
    );
    expect(w.lifecycle.some((event) => event.name === 'stop')).toBe(false);

    const latency = stoppedAt - sentAt;
    const after = (at: number | undefined) =>
      at === undefined ? 'never' : `${(at - sentAt).toFixed(0)} ms`;
    console.info(
      `docker-agent: SIGINT → provider abort ${latency.toFixed(0)} ms (call settled as ${String(settled?.reason)}); ` +
        `turn_end canceled: ${after(loopStopped?.at)}, session_end: ${after(ended.at)}, ` +
        `exit ${String(exit.code ?? exit.signal)} at ${after(exitedAt)}`,
    );
    expect(latency).toBeLessThan(5_000);
  });

  /** Two docker-agents at once, each moving the arm; the first is interrupted mid-call. */
  async function twoSessions(options: Parameters<typeof startWorld>[1] = {}) {
    const long = { x: 1, y: 1, duration_ms: 25_000 };
    const short = { x: 2, y: 2, duration_ms: 6_000 };
    const w = await world(
      (request) =>
        lastUserText(request).includes('first')
          ? callToolThenAnswer(TOOL, long, 'first done')(request)
          : callToolThenAnswer(TOOL, short, 'The arm is at (2, 2).')(request),
      options,
    );
    const first = runDockerAgent(bin, w, home(), 'first: move the arm to (1, 1)');
    const second = runDockerAgent(bin, w, home(), 'second: move the arm to (2, 2)');
    const firstCall = await until('the first call', () => w.runs.find((r) => r.arguments.x === 1));
    const secondCall = await until('the second call', () =>
      w.runs.find((r) => r.arguments.x === 2),
    );
    interrupt(first);
    await until('the first call to be stopped', () => firstCall.stoppedAt, 20_000);
    await first.exited;
    const firstEnded = await until('the first session_end', () =>
      w.lifecycle.find((event) => event.name === 'session:end'),
    );
    const settledOf = (callId: string) => w.settled.find((entry) => entry.callId === callId);
    return { w, second, firstCall, secondCall, firstEnded, settledOf };
  }

  it("two concurrent sessions are scoped apart: Ctrl+C in one stops its call, the other's keeps running to its result", async () => {
    const { second, firstCall, secondCall, firstEnded, settledOf } = await twoSessions();
    expect(secondCall.stoppedAt).toBeUndefined();

    const exit = await second.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stdout).toContain('The arm is at (2, 2).');
    expect(secondCall.stoppedAt).toBeUndefined();

    const settledFirst = settledOf(firstCall.callId);
    const settledSecond = settledOf(secondCall.callId);
    expect(settledFirst).toMatchObject({ outcome: 'cancelled' });
    expect(settledSecond).toMatchObject({ outcome: 'result' });
    // Each call was placed in its own docker-agent session (pre_tool_use), and the second one
    // outlived the first session's end.
    expect(settledFirst?.sessionKey).toEqual(expect.any(String));
    expect(settledSecond?.sessionKey).toEqual(expect.any(String));
    expect(settledSecond?.sessionKey).not.toBe(settledFirst?.sessionKey);
    expect(firstEnded.session).toBe(settledFirst?.sessionKey);
    expect(settledSecond!.at).toBeGreaterThan(firstEnded.at);
  });

  it("without the pre_tool_use hook the calls are placed in no session, and one session's end stops the other's call too", async () => {
    const { second, secondCall, firstEnded, settledOf } = await twoSessions({
      withoutPreToolUse: true,
    });
    await until('the second call to be stopped', () => secondCall.stoppedAt, 10_000);
    await second.exited;
    expect(settledOf(secondCall.callId)).toMatchObject({
      outcome: 'cancelled',
      reason: 'session-ended',
      sessionKey: undefined,
    });
    expect(secondCall.stoppedAt!).toBeGreaterThanOrEqual(firstEnded.at);
  });
});
