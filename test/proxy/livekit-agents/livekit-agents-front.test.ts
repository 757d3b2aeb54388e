/**
 * The @livekit/agents front with the real package: function tools and a toolset handed to a real
 * `voice.AgentSession` (no room: text turns driven by the package's own FakeLLM), so every call goes
 * through the framework's tool execution, argument handling and abort; the tools are a real
 * ToolProxy's, registered by a real ToolProvider on an in-memory room.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initializeLogger, llm, voice } from '@livekit/agents';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { InMemoryRoom } from '../../../bridge/memory.js';
import { createAgent } from '../../../examples/livekit-agent/agent.js';
import {
  bindAgentSession,
  liveKitAgentTools,
  liveKitAgentToolset,
  toToolError,
} from '../../../proxy/livekit-agents/index.js';
import { UNEXPECTED_FAILURE_TEXT } from '../../../proxy/kit/index.js';
import type { ToolProxy } from '../../../src/index.js';
import {
  type CallInfo,
  defineTool,
  type SessionEvent,
  ToolProvider,
  ToolProxyError,
} from '../../../src/index.js';
import { deferred, flush } from '../../support/util.js';
import { echoTool, failTool, robotWorld } from '../../support/robot-world.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/** One run of the `hold` tool: its arguments, its abort reason once aborted, and how to end it. */
interface Hold {
  readonly args: unknown;
  readonly release: ReturnType<typeof deferred<unknown>>;
  readonly aborted: ReturnType<typeof deferred<unknown>>;
}

let room: InMemoryRoom;
let proxy: ToolProxy;
let robot: ToolProvider;
let holds: Hold[];
let holdStarted: ReturnType<typeof deferred<Hold>>;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  initializeLogger({ pretty: false, level: 'silent' });
});

beforeEach(async () => {
  holds = [];
  holdStarted = deferred();
  ({ room, proxy, robot } = await robotWorld([
    echoTool,
    failTool,
    defineTool({
      name: 'hold',
      description: 'Runs until released or aborted',
      input: z.object({ note: z.string().optional() }),
      handler: (args, { signal }) => {
        const hold: Hold = { args, release: deferred(), aborted: deferred() };
        signal.addEventListener('abort', () => hold.aborted.resolve(signal.reason), {
          once: true,
        });
        holds.push(hold);
        holdStarted.resolve(hold);
        return hold.release.promise;
      },
    }),
  ]));
});

afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const hold of holds) hold.release.resolve('released by the test teardown');
  await robot.close();
  await proxy.close();
});

/** A started session whose LLM answers each input with the given content or tool calls. */
async function startSession(
  tools: readonly llm.ToolContextEntry[],
  responses: voice.testing.FakeLLMResponse[],
): Promise<{ session: voice.AgentSession; agent: voice.Agent }> {
  const session = new voice.AgentSession({ llm: new voice.testing.FakeLLM(responses) });
  const agent = new voice.Agent({ instructions: 'You drive a robot.', tools: [...tools] });
  cleanups.push(() => session.close());
  await session.start({ agent });
  return { session, agent };
}

const ownTool = llm.tool({
  name: 'own',
  description: "The agent's own tool",
  execute: () => Promise.resolve('own result'),
});

function outputsOf(result: voice.testing.RunResult): Array<{ output: string; isError: boolean }> {
  return result.events
    .filter((event) => event.type === 'function_call_output')
    .map(({ item }) => ({ output: item.output, isError: item.isError }));
}

function assistantText(result: voice.testing.RunResult): string[] {
  return result.events
    .filter((event) => event.type === 'message' && event.item.role === 'assistant')
    .map((event) => (event.type === 'message' ? (event.item.textContent ?? '') : ''));
}

function functionToolNames(agent: voice.Agent): string[] {
  return Object.keys(agent.toolCtx.functionTools).sort();
}

describe('liveKitAgentTools: definitions @livekit/agents accepts', () => {
  it('one CANCELLABLE function tool per proxy tool, whose parameters are the provider schema', () => {
    const tools = liveKitAgentTools(proxy);
    expect(Object.keys(tools)).toEqual(proxy.tools().map((tool) => tool.name));
    for (const [name, tool] of Object.entries(tools)) {
      const exposed = proxy.getTool(name);
      expect(llm.isFunctionTool(tool)).toBe(true);
      expect(tool).toMatchObject({ type: 'function', name, description: exposed?.description });
      expect(tool.parameters).toEqual(exposed?.inputSchema);
      expect(tool.parameters).not.toBe(exposed?.inputSchema); // a copy: nothing can alter the registry's
      expect(tool.flags & llm.ToolFlag.CANCELLABLE).toBe(llm.ToolFlag.CANCELLABLE);
      // What the LLM is shown: the schema as registered.
      expect(llm.toJsonSchema(tool.parameters)).toEqual(exposed?.inputSchema);
    }
    const context = new llm.ToolContext([ownTool, ...Object.values(tools)]);
    expect(Object.keys(context.functionTools).sort()).toEqual(['echo', 'fail', 'hold', 'own']);
  });

  it('offers only the tools the filter keeps', () => {
    const tools = liveKitAgentTools(proxy, { filter: (tool) => tool.name !== 'fail' });
    expect(Object.keys(tools)).toEqual(['echo', 'hold']);
  });

  it('toToolError: the LLM-readable message, or the generic text for an unexpected throw', () => {
    const error = new ToolProxyError('REMOTE_ERROR', 'Tool "fail" failed: gripper jammed');
    expect(toToolError(error)).toBeInstanceOf(llm.ToolError);
    expect(toToolError(error).message).toBe(error.message);
    expect(toToolError(new Error('internal detail')).message).toBe(UNEXPECTED_FAILURE_TEXT);
  });
});

describe('calls through a real AgentSession', () => {
  it('the result reaches the LLM as the tool output, and the turn ends with its answer', async () => {
    const started: CallInfo[] = [];
    proxy.hooks.on('call:started', (call) => started.push(call));
    let key = 'room-1';
    const { session } = await startSession(
      Object.values(liveKitAgentTools(proxy, { sessionKey: () => key })),
      [
        { input: 'say hi', toolCalls: [{ name: 'echo', args: { text: 'hi' } }] },
        { input: '"hi"', content: 'The robot said hi.' },
      ],
    );
    const result = await session.run({ userInput: 'say hi' }).wait();
    expect(outputsOf(result)).toEqual([{ output: '"hi"', isError: false }]);
    expect(assistantText(result)).toEqual(['The robot said hi.']);
    key = 'room-2'; // read when each call starts
    await session.run({ userInput: 'say hi' }).wait();
    expect(started.map((call) => call.sessionKey)).toEqual(['room-1', 'room-2']);
  });

  it('a provider error reaches the LLM as a ToolError with the proxy message', async () => {
    const { session } = await startSession(Object.values(liveKitAgentTools(proxy)), [
      { input: 'fail', toolCalls: [{ name: 'fail', args: {} }] },
    ]);
    const result = await session.run({ userInput: 'fail' }).wait();
    const [output] = outputsOf(result);
    expect(output?.isError).toBe(true);
    // Not "An internal error occurred": only a ToolError's message reaches the LLM verbatim.
    expect(output?.output).toMatch(/^Tool "fail" failed: .*gripper jammed/);
  });

  it('arguments the schema rejects: @livekit/agents passes them on, the proxy refuses, nothing is sent', async () => {
    const { session } = await startSession(Object.values(liveKitAgentTools(proxy)), [
      { input: 'bad', toolCalls: [{ name: 'echo', args: { text: 5 } }] },
    ]);
    const result = await session.run({ userInput: 'bad' }).wait();
    const [output] = outputsOf(result);
    expect(output?.isError).toBe(true);
    expect(output?.output).toMatch(/^Invalid arguments for tool "echo"/);
    expect(proxy.stats()).toMatchObject({ calls: { rejectedBeforeSend: 1 } });
  });

  it('an interrupt aborts the abortSignal: the call is cancelled and the provider handler aborted', async () => {
    const { session } = await startSession(Object.values(liveKitAgentTools(proxy)), [
      { input: 'hold', toolCalls: [{ name: 'hold', args: { note: 'long' } }] },
    ]);
    const run = session.run({ userInput: 'hold' });
    const hold = await holdStarted.promise;
    expect(hold.args).toEqual({ note: 'long' });
    expect(proxy.pendingCalls).toBe(1);
    await session.interrupt({ force: true }).await;
    expect(proxy.pendingCalls).toBe(0);
    expect(proxy.watchedSignals).toBe(0);
    await expect(hold.aborted.promise).resolves.toMatchObject({
      code: 'CANCELLED',
      reason: 'caller-aborted',
    });
    const result = await run.wait();
    expect(outputsOf(result)).toEqual([]); // the framework drops the output of an aborted tool
  });
});

describe('liveKitAgentToolset: the agent follows the room, keeping its own tools', () => {
  async function joinLab(count: number): Promise<ToolProvider> {
    const lab = new ToolProvider({
      tools: Array.from({ length: count }, (_, i) =>
        defineTool({
          name: `extra_${i}`,
          description: `extra tool ${i}`,
          input: z.object({}),
          handler: () => `extra ${i}`,
        }),
      ),
    });
    cleanups.push(() => lab.close());
    await lab.connect(room.join('lab'));
    return lab;
  }

  it('adds and removes provider tools as they come and go; the agent keeps its own', async () => {
    const toolset = liveKitAgentToolset(proxy, { debounceMs: 0 });
    const { session, agent } = await startSession(
      [ownTool, toolset],
      [
        { input: 'use extra', toolCalls: [{ name: 'extra_0', args: {} }] },
        { input: '"extra 0"', content: 'Done.' },
      ],
    );
    expect(functionToolNames(agent)).toEqual(['echo', 'fail', 'hold', 'own']);
    const lab = await joinLab(1);
    await vi.waitFor(() => expect(functionToolNames(agent)).toContain('extra_0'));
    expect(functionToolNames(agent)).toEqual(['echo', 'extra_0', 'fail', 'hold', 'own']);
    const result = await session.run({ userInput: 'use extra' }).wait();
    expect(outputsOf(result)).toEqual([{ output: '"extra 0"', isError: false }]);
    await lab.close();
    await vi.waitFor(() => expect(functionToolNames(agent)).not.toContain('extra_0'));
    expect(functionToolNames(agent)).toEqual(['echo', 'fail', 'hold', 'own']);
  });

  it('pushes the current list at setup, then one list per burst; unchanged tools keep their object', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const toolset = liveKitAgentToolset(proxy, { debounceMs: 50 });
    const pushes: string[][] = [];
    const objects: Array<readonly llm.ToolContextEntry[]> = [];
    await toolset.setup({
      updateTools: (tools) => {
        objects.push(tools);
        pushes.push(tools.map((tool) => (llm.isFunctionTool(tool) ? tool.name : '?')));
      },
    });
    cleanups.push(() => toolset.aclose());
    expect(pushes).toEqual([['echo', 'fail', 'hold']]);
    await joinLab(3);
    await flush();
    expect(pushes).toHaveLength(1); // three registrations, still inside the window
    await vi.advanceTimersByTimeAsync(50);
    expect(pushes).toEqual([
      ['echo', 'fail', 'hold'],
      ['echo', 'extra_0', 'extra_1', 'extra_2', 'fail', 'hold'],
    ]);
    const echoOf = (list: readonly llm.ToolContextEntry[] | undefined) =>
      list?.find((tool) => llm.isFunctionTool(tool) && tool.name === 'echo');
    expect(echoOf(objects[1])).toBe(echoOf(objects[0]));
  });

  it('aclose (the framework calls it when the session closes) releases every proxy listener', async () => {
    const before = proxy.hooks.listenerCount('tool:registered');
    const toolset = liveKitAgentToolset(proxy);
    const { session } = await startSession([ownTool, toolset], []);
    expect(proxy.hooks.listenerCount('tool:registered')).toBe(before + 1);
    expect(proxy.hooks.listenerCount('tool:unregistered')).toBe(before + 1);
    await session.close();
    expect(proxy.hooks.listenerCount('tool:registered')).toBe(before);
    expect(proxy.hooks.listenerCount('tool:unregistered')).toBe(before);
  });

  it('rejects a negative debounce', () => {
    expect(() => liveKitAgentToolset(proxy, { debounceMs: -1 })).toThrow(RangeError);
  });
});

describe('bindAgentSession: the session closing is session:end', () => {
  it("cancels the session's pending calls (session-ended) and tells the provider; other sessions go on", async () => {
    const ended: SessionEvent[] = [];
    proxy.hooks.on('session:end', (event) => ended.push(event));
    const { session } = await startSession(Object.values(liveKitAgentTools(proxy)), []);
    const unbind = bindAgentSession(session, proxy, 'room-1');
    cleanups.push(() => Promise.resolve(unbind()));
    const mine = proxy.call('hold', {}, { sessionKey: 'room-1' }); // e.g. the agent's own code
    const theirs = proxy.call('hold', {}, { sessionKey: 'room-2' });
    const outcome = mine.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await vi.waitFor(() => expect(holds).toHaveLength(2));
    await session.close();
    expect(ended).toEqual([
      { session_key: 'room-1', reason: 'the agent session closed (user_initiated)' },
    ]);
    await expect(outcome).resolves.toMatchObject({
      code: 'CANCELLED',
      reason: 'session-ended',
      detail: 'the agent session closed (user_initiated)',
    });
    await expect(holds[0]?.aborted.promise).resolves.toMatchObject({
      code: 'CANCELLED',
      reason: 'session-ended',
    });
    expect(proxy.pendingCalls).toBe(1);
    holds[1]?.release.resolve('still running');
    await expect(theirs).resolves.toBe('still running');
  });

  it('a tool the framework runs when the session closes is aborted by it first (caller-aborted)', async () => {
    const { session } = await startSession(Object.values(liveKitAgentTools(proxy)), [
      { input: 'hold', toolCalls: [{ name: 'hold', args: {} }] },
    ]);
    const unbind = bindAgentSession(session, proxy, 'room-1');
    cleanups.push(() => Promise.resolve(unbind()));
    const run = session.run({ userInput: 'hold' });
    const hold = await holdStarted.promise;
    await session.close();
    expect(proxy.pendingCalls).toBe(0);
    await expect(hold.aborted.promise).resolves.toMatchObject({
      code: 'CANCELLED',
      reason: 'caller-aborted',
    });
    expect(outputsOf(await run.wait())).toEqual([]);
  });

  it('the unbinder removes its listener, and nothing is emitted after', async () => {
    const ended: SessionEvent[] = [];
    proxy.hooks.on('session:end', (event) => ended.push(event));
    const { session } = await startSession([], []);
    const before = session.listenerCount(voice.AgentSessionEventTypes.Close);
    const unbind = bindAgentSession(session, proxy, 'room-1');
    expect(session.listenerCount(voice.AgentSessionEventTypes.Close)).toBe(before + 1);
    unbind();
    unbind(); // idempotent
    expect(session.listenerCount(voice.AgentSessionEventTypes.Close)).toBe(before);
    await session.close();
    expect(ended).toEqual([]);
  });

  it('refuses an empty session key (session:end without a key would cancel every call)', async () => {
    const { session } = await startSession([], []);
    expect(() => bindAgentSession(session, proxy, '')).toThrow(TypeError);
  });
});

describe('examples/livekit-agent', () => {
  it("the agent offers its own get_time beside the room's tools, and calls them in its session", async () => {
    const started: CallInfo[] = [];
    proxy.hooks.on('call:started', (call) => started.push(call));
    const session = new voice.AgentSession({
      llm: new voice.testing.FakeLLM([
        { input: 'say hi', toolCalls: [{ name: 'echo', args: { text: 'hi' } }] },
        { input: '"hi"', content: 'Done.' },
      ]),
    });
    cleanups.push(() => session.close());
    const agent = createAgent(proxy, 'livekit-job:1');
    await session.start({ agent });
    expect(functionToolNames(agent)).toEqual(['echo', 'fail', 'get_time', 'hold']);
    const result = await session.run({ userInput: 'say hi' }).wait();
    expect(outputsOf(result)).toEqual([{ output: '"hi"', isError: false }]);
    expect(started.map((call) => call.sessionKey)).toEqual(['livekit-job:1']);
  });
});

describe('@livekit/rtc-node: one copy, inside the @livekit/agents peer range', () => {
  interface Semver {
    satisfies(version: string, range: string): boolean;
    subset(sub: string, dom: string): boolean;
  }

  function isSemver(value: unknown): value is Semver {
    return (
      typeof value === 'object' &&
      value !== null &&
      'satisfies' in value &&
      typeof value.satisfies === 'function' &&
      'subset' in value &&
      typeof value.subset === 'function'
    );
  }

  interface PackageJson {
    version: string;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  }

  function packageJson(path: string): PackageJson {
    return JSON.parse(readFileSync(join(root, path, 'package.json'), 'utf8')) as PackageJson;
  }

  it('the installed rtc-node, and the range the project asks for, satisfy the agents peer range', () => {
    const semver: unknown = createRequire(import.meta.url)('semver');
    expect(isSemver(semver)).toBe(true);
    if (!isSemver(semver)) return;
    const peerRange = packageJson('node_modules/@livekit/agents').peerDependencies?.[
      '@livekit/rtc-node'
    ];
    const installed = packageJson('node_modules/@livekit/rtc-node').version;
    const declared = packageJson('.').dependencies?.['@livekit/rtc-node'];
    expect(peerRange).toMatch(/^\^0\.13\./); // @livekit/agents 1.9: ^0.13.34
    expect(semver.satisfies(installed, peerRange ?? '')).toBe(true);
    expect(semver.subset(declared ?? '', peerRange ?? '')).toBe(true);
  });

  it('npm ls reports no problem, and @livekit/agents uses the top-level copy', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile('npm', ['ls', '@livekit/rtc-node', '--json'], { cwd: root }, (error, out) => {
        resolve({
          code: typeof error?.code === 'number' ? error.code : error ? 1 : 0,
          stdout: out,
        });
      });
    });
    const tree = JSON.parse(stdout) as {
      problems?: string[];
      dependencies?: Record<
        string,
        {
          version?: string;
          invalid?: string;
          dependencies?: Record<string, { version?: string; invalid?: string }>;
        }
      >;
    };
    expect(tree.problems).toBeUndefined();
    expect(code).toBe(0);
    const installed = packageJson('node_modules/@livekit/rtc-node').version;
    expect(tree.dependencies?.['@livekit/rtc-node']).toMatchObject({ version: installed });
    const viaAgents = tree.dependencies?.['@livekit/agents']?.dependencies?.['@livekit/rtc-node'];
    expect(viaAgents).toMatchObject({ version: installed });
    expect(viaAgents?.invalid).toBeUndefined();
    // Two copies would mean two FFI clients in one process (rtc-node keeps one in globalThis).
    const fromAgents = createRequire(
      join(root, 'node_modules/@livekit/agents/package.json'),
    ).resolve('@livekit/rtc-node');
    expect(fromAgents).toBe(createRequire(join(root, 'package.json')).resolve('@livekit/rtc-node'));
  }, 30_000);
});
