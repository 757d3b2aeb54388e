/**
 * The real Claude Code CLI (npm @anthropic-ai/claude-code, pinned in
 * scripts/ensure-claude-code.mjs) against `toolproxy serve`, set up exactly as
 * examples/claude-code/README.md tells a user (its `.mcp.json`, its `settings.json` hooks, the
 * port changed), with a mock Messages API scripting each turn and a provider whose tool takes as
 * long as it is asked. Claude Code defers MCP tools behind ToolSearch, so each turn is ToolSearch,
 * then the tool, then text. Nothing leaves loopback: every run checks the egress trap.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resultText, toolResultFor, toolUseIds } from '../support/mock-anthropic.js';
import { countRealPeerTests } from '../support/peer-count.js';
import { mcpPeerGate, REQUIRE_REAL_PEERS } from '../support/mcp-peers.js';
import { measured } from '../support/measured.js';
import {
  type ClaudeWorld,
  clock,
  hookPostedAt,
  hookRoundTrip,
  MCP_TOOL,
  startClaudeWorld,
  streamEvents,
} from './claude-code-world.js';
import { Terminal, tmuxMissing } from './claude-code-tmux.js';
import { killAll } from './peer-process.js';

const gate = mcpPeerGate('Claude Code real-peer tests', ['claude-code']);
const noTmux = tmuxMissing();
if (noTmux !== undefined && !gate.skip && !REQUIRE_REAL_PEERS)
  console.warn(`Claude Code interactive test: skipped: ${noTmux}`);

const ms = (value: number) => `${Math.round(value)} ms`;

describe.skipIf(gate.skip)('Claude Code (the real CLI) against toolproxy serve', () => {
  countRealPeerTests('Claude Code');
  let world: ClaudeWorld;

  beforeAll(async () => {
    world = await startClaudeWorld(gate.peers()['claude-code']);
  }, 30_000);
  afterEach(() => {
    killAll();
    expect(world.trap.attempts(), 'Claude Code tried to reach beyond loopback').toEqual([]);
    // Nothing but the Messages API was asked of the mock (no count_tokens, no other endpoint).
    const others = world.mock.requests.filter((request) => request.path !== '/v1/messages');
    expect(others.map((request) => `${request.method} ${request.path}`)).toEqual([]);
  });
  afterAll(async () => {
    await world?.close();
  });

  /** The Messages requests of one Claude Code session, in order. */
  const turns = (session: string) =>
    world.mock.requests.filter((request) => request.session === session && request.body);

  it('claude -p: lists the tool, loads it through ToolSearch, calls it, and sends its result to the model in the next request', async (context) => {
    const run = world.print('listed', 0.2);
    const exit = await run.exited;
    expect(exit, exit.stderr).toMatchObject({ code: 0 });
    const events = streamEvents(exit.stdout);
    const init = events.find((event) => event.subtype === 'init') ?? {};
    const session = String(init.session_id);
    expect(init.tools).toContain(MCP_TOOL);
    expect(init.mcp_servers).toEqual([
      expect.objectContaining({ name: 'toolproxy', status: 'connected' }),
    ]);

    const [first, second, third, ...more] = turns(session).map((request) => request.body!);
    expect(more).toEqual([]);
    // First request: the tool deferred (named in the prompt, no schema), ToolSearch offered.
    expect(first?.tools?.map((tool) => tool.name)).toContain('ToolSearch');
    expect(first?.tools?.map((tool) => tool.name)).not.toContain(MCP_TOOL);
    expect(JSON.stringify(first?.messages)).toContain(MCP_TOOL);
    // Second: ToolSearch answered with the tool, now offered with the provider's description.
    const [search] = toolUseIds(second!, 'ToolSearch');
    expect(JSON.stringify(toolResultFor(second!, search!))).toContain(MCP_TOOL);
    expect(second?.tools?.find((tool) => tool.name === MCP_TOOL)).toMatchObject({
      description: expect.stringContaining('Runs a slow job'),
      input_schema: { required: ['label', 'seconds'] },
    });
    // Third: the provider's result as the tool result.
    const [use] = toolUseIds(third!, MCP_TOOL);
    const result = toolResultFor(third!, use!);
    expect(result).toMatchObject({ type: 'tool_result' });
    expect(result?.is_error).not.toBe(true);
    expect(JSON.parse(resultText(result!))).toEqual({ finished: 'listed' });
    expect(events.at(-1)).toMatchObject({ type: 'result', subtype: 'success' });
    expect(String(events.at(-1)?.result)).toContain('{"finished":"listed"}');

    // The call was placed in Claude Code's session (the PreToolUse hook), which then ended.
    const job = await world.job('listed');
    expect(world.served.provider.calls.find((call) => call.callId === job.callId)).toMatchObject({
      name: 'slow_job',
      arguments: { label: 'listed', seconds: 0.2 },
    });
    expect(await world.settledCall(job.callId)).toMatchObject({
      outcome: 'result',
      sessionKey: session,
    });
    await expect.poll(() => world.sessionEnds.map((end) => end.session)).toContain(session);
    const roundTrip = hookRoundTrip(world.debugLog('listed'), 'PreToolUse');
    if (roundTrip !== undefined)
      await measured(context, `PreToolUse http hook: posted → answered ${ms(roundTrip)}`);
  }, 90_000);

  it('claude -p asks nothing: without --allowedTools the tool is refused and the provider never called; --allowedTools mcp__toolproxy allows every toolproxy tool', async () => {
    const refused = await world.print('not-allowed', 0.1, []).exited;
    expect(refused, refused.stderr).toMatchObject({ code: 0 });
    const result = streamEvents(refused.stdout).at(-1) ?? {};
    expect(result.permission_denials).toEqual([
      expect.objectContaining({
        tool_name: MCP_TOOL,
        tool_input: { label: 'not-allowed', seconds: 0.1 },
      }),
    ]);
    expect(world.jobs.map((job) => job.label)).not.toContain('not-allowed');

    const allowed = await world.print('server-allowed', 0.1, ['mcp__toolproxy']).exited;
    expect(allowed, allowed.stderr).toMatchObject({ code: 0 });
    expect(streamEvents(allowed.stdout).at(-1)).toMatchObject({ permission_denials: [] });
    expect(world.jobs.map((job) => job.label)).toContain('server-allowed');
  }, 90_000);

  it.for(['SIGINT', 'SIGTERM'] as const)(
    '%s to claude -p mid-call: the provider is told to stop, the call ends, and SessionEnd still reaches serve',
    { timeout: 90_000 },
    async (signal, context) => {
      const label = `signal-${signal}`;
      const run = world.print(label, 25);
      const job = await world.job(label);
      const sentAt = clock();
      run.child.kill(signal);
      const session = world.sessionOf(label);
      const settled = await world.settledCall(job.callId);
      // Claude Code sends no cancel. It drops the HTTP request, which serve takes as caller gone,
      // and runs its SessionEnd hook: whichever reaches serve first stops the call.
      expect(settled).toMatchObject({ outcome: 'cancelled' });
      expect(settled.reason).toMatch(/^(caller-gone|session-ended)$/);
      await expect.poll(() => world.served.provider.stopped).toContain(job.callId);
      expect(job.abortedAt).toBeDefined();
      expect(settled.sessionKey).toBe(session);
      await expect
        .poll(() => world.sessionEnds.map((entry) => entry.session), { timeout: 10_000 })
        .toContain(session);
      const end = world.sessionEnds.find((entry) => entry.session === session)!;
      await run.exited; // it exits of its own accord (past its limit it would be killed: a failure)
      const posted = hookPostedAt(world.debugLog(label), 'SessionEnd');
      await measured(
        context,
        `${signal} → provider abort ${ms(job.abortedAt! - sentAt)} (${settled.reason}); → SessionEnd applied at serve ${ms(end.at - sentAt)}` +
          (posted === undefined ? '' : ` (hook posted → applied ${ms(end.at - posted)})`),
      );
    },
  );

  it("two concurrent claude -p sessions with the shipped hooks: ending one (SessionEnd) leaves the other's call running", async () => {
    const ended = world.print('ended', 25);
    const endedJob = await world.job('ended');
    const kept = world.print('kept', 6);
    const keptJob = await world.job('kept');
    const [endedSession, keptSession] = [world.sessionOf('ended'), world.sessionOf('kept')];
    ended.child.kill('SIGINT');
    const endedCall = await world.settledCall(endedJob.callId);
    expect(endedCall).toMatchObject({ outcome: 'cancelled' });
    await expect
      .poll(() => world.sessionEnds.map((end) => end.session), { timeout: 10_000 })
      .toContain(endedSession);
    // Each call was placed in its own session by its PreToolUse hook, so the SessionEnd of a
    // known session cancels only that session's calls (without the hook, both calls would be
    // unplaced, and the end of a session nothing was placed in takes every unplaced call).
    expect(keptJob.abortedAt).toBeUndefined();
    expect(world.settled.find((call) => call.callId === keptJob.callId)).toBeUndefined();
    expect(world.served.serve.proxy.pendingCalls).toBe(1);
    expect(endedCall.sessionKey).toBe(endedSession);

    const exit = await kept.exited;
    expect(exit, exit.stderr).toMatchObject({ code: 0 });
    expect(await world.settledCall(keptJob.callId)).toMatchObject({
      outcome: 'result',
      sessionKey: keptSession,
    });
    const last = turns(keptSession).at(-1)?.body;
    const [use] = toolUseIds(last!, MCP_TOOL);
    expect(JSON.parse(resultText(toolResultFor(last!, use!)!))).toEqual({ finished: 'kept' });
  }, 120_000);

  describe.skipIf(noTmux !== undefined && !REQUIRE_REAL_PEERS)('interactive, in a terminal', () => {
    let terminal: Terminal | undefined;
    afterEach(async () => {
      await terminal?.close();
    });

    it('Esc while the tool runs: the provider is told to stop; /exit then posts SessionEnd', async (context) => {
      if (noTmux !== undefined) throw new Error(noTmux);
      const label = 'escape';
      terminal = await Terminal.start({
        dir: world.scratch,
        cwd: world.project,
        env: world.env(),
        command: [
          gate.peers()['claude-code'].path,
          '--allowedTools',
          MCP_TOOL,
          '--debug-file',
          world.debugLog(label),
        ],
      });
      // The README's first-start steps: trust the folder, then use the project's MCP server.
      await terminal.waitFor(/Yes, I trust this folder/);
      await terminal.choose('Yes, I trust this folder', 'Down');
      await terminal.waitFor(/New MCP server found in this project: toolproxy/);
      await terminal.choose('Use this MCP server', 'Up');
      await terminal.waitFor(/shift\+tab to cycle/);
      const local = JSON.parse(
        readFileSync(join(world.project, '.claude', 'settings.local.json'), 'utf8'),
      ) as unknown;
      expect(local).toMatchObject({ enabledMcpjsonServers: ['toolproxy'] });

      await terminal.submit(world.prompt(label, 25), /esc to interrupt/);
      const job = await terminal.showing(world.job(label, 30_000));
      const pressedAt = clock();
      await terminal.keys('Escape');
      const settled = await world.settledCall(job.callId);
      // Esc sends notifications/cancelled for the request; the SDK aborts the call's handler.
      expect(settled).toMatchObject({
        outcome: 'cancelled',
        reason: 'caller-aborted',
        sessionKey: world.sessionOf(label),
      });
      await expect.poll(() => world.served.provider.stopped).toContain(job.callId);
      await terminal.waitFor(/Interrupted/);

      await terminal.type('/exit');
      await terminal.waitFor(/❯ \/exit/);
      await terminal.keys('Enter');
      await expect
        .poll(() => world.sessionEnds.map((end) => end.session), { timeout: 10_000 })
        .toContain(settled.sessionKey);
      const end = world.sessionEnds.find((entry) => entry.session === settled.sessionKey)!;
      const posted = hookPostedAt(world.debugLog(label), 'SessionEnd');
      await measured(
        context,
        `Esc → provider abort ${ms(job.abortedAt! - pressedAt)}` +
          (posted === undefined ? '' : `; SessionEnd hook posted → applied ${ms(end.at - posted)}`),
      );
    }, 90_000);
  });
});
