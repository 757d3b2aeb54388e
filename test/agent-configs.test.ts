/**
 * The agent configurations in examples/ (Claude Code, docker-agent, hermes-agent) have the shape
 * those agents read, name hook events the ingress accepts, and point at `serve`'s defaults; each
 * agent's real hook payload for each configured event becomes the lifecycle event that should
 * come out; and the configured commands, run as the agent runs them, cancel the session's call.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { mintProviderToken } from '../bridge/livekit/token.js';
import { developmentKeys, serveConfig } from '../proxy/cli/config.js';
import { startServe } from '../proxy/cli/serve.js';
import { isKnownHookEvent, mapAgentHook } from '../proxy/hooks/index.js';
import { hookSource } from '../proxy/hooks/index.js';
import { silentLogger } from '../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (...path: string[]) => readFileSync(join(root, 'examples', ...path), 'utf8');

/** The lifecycle events that cancel a session's calls. */
const CANCELLING = new Set(['agent_loop_stopped', 'session:end', 'session:reset']);
/** `serve`'s own defaults, which the configurations point at. */
const defaults = serveConfig({}, {});
const MCP_URL = `http://${defaults.host}:${defaults.port}/mcp`;
/** The lifecycle events an agent's hook becomes (the mapping must accept it). */
function lifecycle(event: string, payload: object) {
  const mapped = mapAgentHook(event, payload);
  expect(mapped).toMatchObject({ ok: true });
  return mapped.ok ? mapped.events : [];
}

const cancels = (event: string, payload: object) =>
  lifecycle(event, payload).some((mapped) => CANCELLING.has(mapped.name));

// --- Claude Code -------------------------------------------------------------------------------

/**
 * An http hook as Claude Code (2.1.63+) reads it: it POSTs the hook JSON to `url` itself, so no
 * process starts and no toolproxy package is needed where it runs. `timeout` in seconds; http
 * hooks cannot be `async`.
 */
const ClaudeHttpHook = z.strictObject({
  type: z.literal('http'),
  url: z.url(),
  timeout: z.number().positive(),
});
const ClaudeSettings = z.strictObject({
  hooks: z.record(
    z.string(),
    z.array(z.strictObject({ matcher: z.string().optional(), hooks: z.array(ClaudeHttpHook) })),
  ),
});
/** What the README tells a user to change for another port. */
const CLAUDE_ADDRESS = `${defaults.host}:${defaults.port}`;
const ClaudeMcp = z.strictObject({
  mcpServers: z.record(z.string(), z.strictObject({ type: z.literal('http'), url: z.string() })),
});

const claudeSettings = ClaudeSettings.parse(JSON.parse(read('claude-code', 'settings.json')));

/** Claude Code's stdin for each configured event (hooks reference: common fields + the event's). */
const claudeCommon = {
  session_id: 'cc-session-1',
  transcript_path: '/home/me/.claude/projects/app/cc-session-1.jsonl',
  cwd: '/home/me/app',
  permission_mode: 'default',
};
const CLAUDE_PAYLOADS: Record<string, Record<string, unknown>> = {
  SessionEnd: { ...claudeCommon, hook_event_name: 'SessionEnd', reason: 'prompt_input_exit' },
  Stop: {
    ...claudeCommon,
    hook_event_name: 'Stop',
    stop_hook_active: false,
    last_assistant_message: 'The arm is at (40, 12).',
  },
  Notification: {
    ...claudeCommon,
    hook_event_name: 'Notification',
    message: 'Claude needs your permission to use mcp__toolproxy__move_arm',
    notification_type: 'permission_prompt',
  },
  PreToolUse: {
    ...claudeCommon,
    hook_event_name: 'PreToolUse',
    tool_name: 'mcp__toolproxy__move_arm',
    tool_input: { x: 40, y: 12 },
    tool_use_id: 'toolu_01ABC',
  },
};

describe('Claude Code (examples/claude-code)', () => {
  it("settings.json: http hooks for PreToolUse, SessionEnd, Stop and Notification, each posting its own event to serve's default address", () => {
    // No SessionStart: Claude Code runs no http hooks for it (nor Setup), and it cancels nothing.
    expect(Object.keys(claudeSettings.hooks).sort()).toEqual(
      ['Notification', 'PreToolUse', 'SessionEnd', 'Stop'].sort(),
    );
    for (const [event, groups] of Object.entries(claudeSettings.hooks)) {
      expect(hookSource(event)).toBe('Claude Code');
      expect(isKnownHookEvent(event)).toBe(true);
      expect(groups).toHaveLength(1);
      for (const group of groups) {
        // PreToolUse only for toolproxy's own tools; session events take no matcher, and the
        // others would match every notification or stop.
        expect(group.matcher).toBe(event === 'PreToolUse' ? 'mcp__toolproxy__.*' : undefined);
        expect(group.hooks).toHaveLength(1);
        expect(group.hooks[0]?.url).toBe(`http://${CLAUDE_ADDRESS}/hooks/${event}`);
      }
    }
  });

  it('timeouts: PreToolUse delays a call only while serve hangs; SessionEnd raises the 1.5 s budget Claude Code gives all SessionEnd hooks, within its 60 s cap', () => {
    const timeout = (event: string) => claudeSettings.hooks[event]?.[0]?.hooks[0]?.timeout ?? 0;
    expect(timeout('PreToolUse')).toBeLessThanOrEqual(2);
    expect(timeout('SessionEnd')).toBeGreaterThanOrEqual(2);
    expect(timeout('SessionEnd')).toBeLessThanOrEqual(60);
    for (const event of ['Stop', 'Notification']) expect(timeout(event)).toBeLessThanOrEqual(5);
    for (const event of Object.keys(claudeSettings.hooks))
      expect(cancels(event, CLAUDE_PAYLOADS[event] ?? {})).toBe(event === 'SessionEnd');
  });

  it("each configured event's real payload becomes the right lifecycle event", () => {
    expect(Object.keys(CLAUDE_PAYLOADS).sort()).toEqual(Object.keys(claudeSettings.hooks).sort());
    expect(lifecycle('SessionEnd', CLAUDE_PAYLOADS.SessionEnd!)).toEqual([
      {
        name: 'session:end',
        payload: {
          session_key: 'cc-session-1',
          session_id: 'cc-session-1',
          reason: 'prompt_input_exit',
        },
      },
    ]);
    expect(lifecycle('Stop', CLAUDE_PAYLOADS.Stop!)).toEqual([
      { name: 'stop', payload: { session_key: 'cc-session-1', session_id: 'cc-session-1' } },
    ]);
    expect(lifecycle('PreToolUse', CLAUDE_PAYLOADS.PreToolUse!)).toEqual([]);
    expect(mapAgentHook('PreToolUse', CLAUDE_PAYLOADS.PreToolUse!)).toMatchObject({
      ok: true,
      bindings: [{ session: 'cc-session-1', correlation: 'tool-use:toolu_01ABC' }],
    });
    expect(lifecycle('Notification', CLAUDE_PAYLOADS.Notification!)).toEqual([
      {
        name: 'notification',
        payload: {
          session_key: 'cc-session-1',
          message: 'Claude needs your permission to use mcp__toolproxy__move_arm',
          level: 'permission_prompt',
        },
      },
    ]);
  });

  it(".mcp.json: toolproxy as an HTTP MCP server at serve's default address", () => {
    const config = ClaudeMcp.parse(JSON.parse(read('claude-code', '.mcp.json')));
    expect(config.mcpServers).toEqual({ toolproxy: { type: 'http', url: MCP_URL } });
  });
});

// --- docker-agent ------------------------------------------------------------------------------

/** A command hook as docker-agent reads it (`timeout` in seconds, default 60). */
const DockerCommandHook = z.strictObject({
  type: z.literal('command'),
  command: z.string(),
  timeout: z.number().positive(),
});
const DockerAgentFile = z.strictObject({
  agents: z.record(
    z.string(),
    z.object({
      model: z.string().regex(/^[\w-]+\/\S+$/),
      description: z.string(),
      instruction: z.string(),
      toolsets: z.array(
        z.strictObject({
          type: z.literal('mcp'),
          remote: z.strictObject({
            url: z.string(),
            transport_type: z.enum(['sse', 'streamable']),
          }),
        }),
      ),
      // Lifecycle events take a plain list of hooks, tool events matcher groups.
      hooks: z.record(
        z.string(),
        z.array(
          z.union([
            DockerCommandHook,
            z.strictObject({
              matcher: z.string().optional(),
              preempt_yolo: z.boolean().optional(),
              hooks: z.array(DockerCommandHook),
            }),
          ]),
        ),
      ),
    }),
  ),
});

const dockerAgent = DockerAgentFile.parse(parseYaml(read('docker-agent', 'agent.yaml')));

/**
 * docker-agent's hook command: curl POSTs the hook JSON to serve (its default address unless
 * TOOLPROXY_URL is set), needing no toolproxy package where the agent runs; bounded by `-m 2`,
 * silent, and always exit 0.
 */
const DOCKER_HOOK_COMMAND = new RegExp(
  `^curl -s -m 2 -o /dev/null --data-binary @- "\\$\\{TOOLPROXY_URL:-${escapeRegExp(
    `http://${defaults.host}:${defaults.port}`,
  )}\\}/hooks/(\\S+)" \\|\\| true$`,
);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The event a configured docker-agent command forwards, checked against the ingress. */
function dockerCommandEvent(command: string): string {
  const event = DOCKER_HOOK_COMMAND.exec(command)?.[1];
  expect(event, `"${command}" is not the curl form of examples/docker-agent`).toBeDefined();
  expect(isKnownHookEvent(event ?? '')).toBe(true);
  return event ?? '';
}

/** docker-agent's stdin for each configured event (`pkg/hooks/types.go`: common + the event's). */
const dockerCommon = { session_id: 'da-session-1', cwd: '/home/me/app', agent_name: 'root' };
const DOCKER_PAYLOADS: Record<string, Record<string, unknown>> = {
  pre_tool_use: {
    ...dockerCommon,
    hook_event_name: 'pre_tool_use',
    tool_name: 'move_arm',
    tool_use_id: 'call_1',
    tool_input: { x: 40, y: 12 },
  },
  turn_end: { ...dockerCommon, hook_event_name: 'turn_end', reason: 'canceled' },
  session_end: { ...dockerCommon, hook_event_name: 'session_end', reason: 'other' },
  stop: {
    ...dockerCommon,
    hook_event_name: 'stop',
    stop_response: 'The arm is at (40, 12).',
    last_user_message: 'Move the arm to (40, 12)',
  },
  notification: {
    ...dockerCommon,
    hook_event_name: 'notification',
    notification_level: 'warning',
    notification_message: 'Rate limited; retrying',
  },
};

describe('docker-agent (examples/docker-agent)', () => {
  it("agent.yaml: a root agent with toolproxy as a streamable remote MCP toolset at serve's default address", () => {
    expect(Object.keys(dockerAgent.agents)).toEqual(['root']);
    expect(dockerAgent.agents.root?.toolsets).toEqual([
      { type: 'mcp', remote: { url: MCP_URL, transport_type: 'streamable' } },
    ]);
  });

  it('agent.yaml: command hooks for pre_tool_use, turn_end, session_end, stop and notification, each forwarding its own event', () => {
    const hooks = dockerAgent.agents.root?.hooks ?? {};
    expect(Object.keys(hooks).sort()).toEqual([
      'notification',
      'pre_tool_use',
      'session_end',
      'stop',
      'turn_end',
    ]);
    for (const [event, list] of Object.entries(hooks)) {
      expect(hookSource(event)).toMatch(/^docker-agent/);
      expect(list).toHaveLength(1);
      // pre_tool_use is a tool event: one matcher group, for every tool (no matcher), run before
      // the approval step (preempt_yolo), else auto-approved calls would never be placed.
      const commands = list.flatMap((entry) => ('hooks' in entry ? entry.hooks : [entry]));
      if (event === 'pre_tool_use')
        expect(list[0]).toEqual({ preempt_yolo: true, hooks: commands });
      for (const hook of commands) {
        expect(dockerCommandEvent(hook.command)).toBe(event);
        // Above curl's -m 2: a pre_tool_use hook that times out blocks the tool call.
        expect(hook.timeout).toBeGreaterThan(2);
        expect(hook.timeout).toBeLessThanOrEqual(10);
      }
    }
  });

  it("each configured event's real payload becomes the right lifecycle event; only an interrupted turn or the session's end cancels", () => {
    expect(Object.keys(DOCKER_PAYLOADS).sort()).toEqual(
      Object.keys(dockerAgent.agents.root?.hooks ?? {}).sort(),
    );
    expect(lifecycle('turn_end', DOCKER_PAYLOADS.turn_end!)).toEqual([
      { name: 'agent_loop_stopped', payload: { session_key: 'da-session-1', reason: 'canceled' } },
    ]);
    for (const reason of [
      'normal',
      'continue',
      'steered',
      'error',
      'hook_blocked',
      'loop_detected',
    ]) {
      expect(lifecycle('turn_end', { ...DOCKER_PAYLOADS.turn_end, reason })).toEqual([]);
    }
    expect(lifecycle('session_end', DOCKER_PAYLOADS.session_end!)).toEqual([
      {
        name: 'session:end',
        payload: { session_key: 'da-session-1', session_id: 'da-session-1', reason: 'other' },
      },
    ]);
    expect(lifecycle('stop', DOCKER_PAYLOADS.stop!)).toEqual([
      { name: 'stop', payload: { session_key: 'da-session-1', session_id: 'da-session-1' } },
    ]);
    expect(cancels('stop', DOCKER_PAYLOADS.stop!)).toBe(false);
    expect(lifecycle('notification', DOCKER_PAYLOADS.notification!)).toEqual([
      {
        name: 'notification',
        payload: expect.objectContaining({ message: 'Rate limited; retrying', level: 'warning' }),
      },
    ]);
    expect(cancels('notification', DOCKER_PAYLOADS.notification!)).toBe(false);
    expect(lifecycle('pre_tool_use', DOCKER_PAYLOADS.pre_tool_use!)).toEqual([]);
    expect(mapAgentHook('pre_tool_use', DOCKER_PAYLOADS.pre_tool_use!)).toMatchObject({
      ok: true,
      bindings: [
        { session: 'da-session-1', correlation: 'input:{"x":40,"y":12}', tool: 'move_arm' },
      ],
    });
  });

  it('each configured command exits 0 within its bound, printing nothing, when serve is not there', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const hooks = Object.entries(dockerAgent.agents.root?.hooks ?? {});
    const results = await Promise.all(
      hooks.flatMap(([event, list]) =>
        list
          .flatMap((entry) => ('hooks' in entry ? entry.hooks : [entry]))
          .map(async (hook) => {
            const started = performance.now();
            const result = await runHookCommand(
              hook.command,
              JSON.stringify(DOCKER_PAYLOADS[event]),
              { TOOLPROXY_URL: `http://127.0.0.1:${port}` },
            );
            return { ...result, ms: performance.now() - started };
          }),
      ),
    );
    expect(results).toHaveLength(hooks.length);
    for (const result of results) {
      expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
      expect(result.ms).toBeLessThan(2_500);
    }
  });
});

// --- hermes-agent ------------------------------------------------------------------------------

describe('hermes-agent (examples/hermes)', () => {
  it('plugin.yaml declares the three hooks the ingress takes from the hermes plugin', () => {
    const manifest = z
      .object({ name: z.string(), version: z.string(), provides_hooks: z.array(z.string()) })
      .parse(parseYaml(read('hermes', 'plugin.yaml')));
    expect(manifest.name).toBe('toolproxy');
    expect(manifest.provides_hooks).toEqual([
      'agent_loop_stopped',
      'on_session_finalize',
      'on_session_reset',
    ]);
    for (const hook of manifest.provides_hooks)
      expect(hookSource(hook)).toBe('hermes-agent plugin');
  });

  it("config.yaml: toolproxy as an MCP server at serve's default address, and the stdio alternative", () => {
    const text = read('hermes', 'config.yaml');
    const McpServers = z.object({
      mcp_servers: z.object({ toolproxy: z.record(z.string(), z.unknown()) }),
    });
    const http = McpServers.parse(parseYaml(text)).mcp_servers.toolproxy;
    // hermes forwards each call's chat in _meta only with this set: without it, stops cannot be
    // told apart by chat on hermes' one MCP session.
    expect(http).toMatchObject({ url: MCP_URL, forward_hermes_context: true });
    // The alternative is commented out (one server named toolproxy at a time): uncomment it.
    const alternative = text
      .split('\n')
      .filter((line) => /^ {2}# ( {2})?[a-z_]+:/.test(line))
      .map((line) => line.replace('# ', ''))
      .join('\n');
    const stdio = McpServers.parse(parseYaml(`mcp_servers:\n${alternative}`)).mcp_servers.toolproxy;
    expect(stdio).toMatchObject({ command: 'npx', args: ['toolproxy', 'serve', '--mcp', 'stdio'] });
    expect(serveConfig({ mcp: 'stdio' }, {}).mcp).toBe('stdio');
    expect(http.timeout).toBe(stdio.timeout);
    expect(stdio.forward_hermes_context).toBe(true);
  });
});

// --- the commands, run as the agents run them ---------------------------------------------------

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs `command` through the shell with `stdin`, as docker-agent does. */
function runHookCommand(
  command: string,
  stdin: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('TOOLPROXY_'));
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: root,
      env: { ...Object.fromEntries(inherited), ...env },
      timeout: 30_000,
      killSignal: 'SIGKILL',
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('the configured commands against a running serve', () => {
  it("Claude Code's SessionEnd and docker-agent's turn_end (canceled) and session_end each cancel their session's call, and no other", async () => {
    const keys = developmentKeys();
    const serve = await startServe(
      { ...defaults, port: 0, logLevel: 'silent', keys, livekit: undefined },
      { logger: silentLogger, announce: () => {} },
    );
    cleanups.push(() => serve.close());
    const token = await mintProviderToken({ ...keys, room: defaults.room, identity: 'robot' });
    const socket = new WebSocket(`${serve.url.replace('http', 'ws')}/bridge?token=${token}`);
    cleanups.push(() => socket.terminate());
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(
      JSON.stringify({
        type: 'client:tool-register',
        name: 'slow_job',
        description: 'Runs until cancelled',
        input_schema: { type: 'object' },
      }),
    );
    await serve.proxy.waitForTool('slow_job');

    // Claude Code posts its http hook itself; the URL's port changed as the README says.
    const claudeUrl = (claudeSettings.hooks.SessionEnd?.[0]?.hooks[0]?.url ?? '').replace(
      CLAUDE_ADDRESS,
      new URL(serve.url).host,
    );
    const dockerHooks = dockerAgent.agents.root?.hooks ?? {};
    const dockerCommand = (event: string): string | undefined => {
      const entry = dockerHooks[event]?.[0];
      return entry === undefined || 'hooks' in entry ? undefined : entry.command;
    };
    const runs = [
      {
        key: 'da-turn',
        command: dockerCommand('turn_end'),
        payload: DOCKER_PAYLOADS.turn_end,
      },
      {
        key: 'da-end',
        command: dockerCommand('session_end'),
        payload: DOCKER_PAYLOADS.session_end,
      },
    ];
    const settled = new Map<string, unknown>();
    /** Starts a call in `sessionKey`, recording how it settles; returns its cancel. */
    const callIn = (sessionKey: string): (() => void) => {
      const call = serve.proxy.call('slow_job', {}, { sessionKey });
      void call.then(
        () => settled.set(sessionKey, 'resolved'),
        (error: unknown) => settled.set(sessionKey, error),
      );
      return () => call.cancel();
    };
    const cancelBystander = callIn('someone-else');
    callIn('cc-end');
    for (const run of runs) callIn(run.key);
    expect(serve.proxy.pendingCalls).toBe(4);

    const claudeAnswer = await fetch(claudeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...CLAUDE_PAYLOADS.SessionEnd, session_id: 'cc-end' }),
    });
    // A JSON object: Claude Code reads it as the hook's output, ignoring the keys it does not know.
    expect(claudeAnswer.status).toBe(200);
    expect(await claudeAnswer.json()).toMatchObject({ accepted: true, cancelled: 1 });
    const results = await Promise.all(
      runs.map((run) =>
        runHookCommand(run.command ?? '', JSON.stringify({ ...run.payload, session_id: run.key }), {
          TOOLPROXY_URL: serve.url,
        }),
      ),
    );
    for (const result of results) {
      // Exit 0 and nothing on stdout: anything else would be read as a hook decision.
      expect(result).toMatchObject({ code: 0, stdout: '' });
      expect(result.stderr).not.toMatch(/toolproxy hook:/);
    }
    expect(settled.get('cc-end')).toMatchObject({ code: 'CANCELLED', reason: 'session-ended' });
    expect(settled.get('da-turn')).toMatchObject({
      code: 'CANCELLED',
      reason: 'agent-loop-stopped',
    });
    expect(settled.get('da-end')).toMatchObject({ code: 'CANCELLED', reason: 'session-ended' });
    expect(settled.has('someone-else')).toBe(false);
    expect(serve.proxy.pendingCalls).toBe(1);
    cancelBystander();
    await expect
      .poll(() => settled.get('someone-else'))
      .toMatchObject({ code: 'CANCELLED', reason: 'caller-aborted' });
  }, 60_000);
});
