/**
 * Session-exact stops through `serve`, as real agents drive it: the MCP SDK's real client over
 * Streamable HTTP sends what each agent sends on `tools/call`, and the agents' hook JSON is posted
 * to the hook ingress. A stop of one session cancels that session's calls and no other's.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mintProviderToken } from '../../bridge/livekit/token.js';
import { webSocketProviderChannel } from '../../bridge/websocket/provider.js';
import { CLAUDE_CODE_TOOL_USE_META, HERMES_CONTEXT_META } from '../../proxy/mcp/index.js';
import { defineTool, ToolProvider } from '../../src/index.js';
import { deferred } from '../support/util.js';
import { type ServeFixture, startServeFixture } from './serve-fixture.js';

interface Robot {
  /** Resolves once `count` calls have started running at the provider. */
  running(count: number): Promise<void>;
  /** The abort reason code of each call, by its `label` argument. */
  aborted: Map<string, string | undefined>;
}

let fixture: ServeFixture | undefined;
const clients: Client[] = [];
const providers: ToolProvider[] = [];

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((client) => client.close()));
  await Promise.allSettled(providers.splice(0).map((provider) => provider.close()));
  await fixture?.close();
  fixture = undefined;
});

async function world(): Promise<{ fixture: ServeFixture; robot: Robot }> {
  fixture = await startServeFixture();
  const aborted = new Map<string, string | undefined>();
  let started = 0;
  const waiting: Array<{ count: number; done: () => void }> = [];
  const provider = new ToolProvider({
    tools: [
      defineTool({
        name: 'hold',
        description: 'runs until aborted',
        input: z.object({ label: z.string() }),
        handler: ({ label }, { signal }) => {
          started++;
          for (const wait of waiting.filter((w) => w.count <= started)) wait.done();
          return new Promise((resolve) => {
            signal.addEventListener('abort', () => {
              aborted.set(label, (signal.reason as { reason?: string }).reason);
              resolve('aborted');
            });
          });
        },
      }),
    ],
  });
  providers.push(provider);
  const registered = deferred<undefined>();
  provider.events.on('registered', () => registered.resolve(undefined));
  const { apiKey, apiSecret } = fixture.keys;
  await provider.connect(
    webSocketProviderChannel({
      url: `${fixture.serve.url.replace('http', 'ws')}/bridge`,
      token: () => mintProviderToken({ apiKey, apiSecret, room: 'toolproxy', identity: 'robot' }),
      WebSocket,
    }),
  );
  await registered.promise;
  const running = (count: number) =>
    started >= count
      ? Promise.resolve()
      : new Promise<void>((done) => waiting.push({ count, done }));
  return { fixture, robot: { running, aborted } };
}

async function agent(url: string): Promise<Client> {
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
  clients.push(client);
  return client;
}

async function hook(f: ServeFixture, event: string, payload: object): Promise<unknown> {
  const response = await f.postHook(event, { hook_event_name: event, ...payload });
  expect(response.status).toBe(200);
  return response.json();
}

/** Starts a `hold` call; the returned promise is observed (it settles when the call is aborted). */
function hold(client: Client, label: string, meta?: Record<string, unknown>): Promise<unknown> {
  const call = client.callTool({ name: 'hold', arguments: { label }, _meta: meta });
  call.catch(() => {});
  return call;
}

describe('Claude Code: its PreToolUse hook binds the tool-use id it also puts on tools/call', () => {
  it("SessionEnd of one window cancels that window's call, not the other's", async () => {
    const { fixture: f, robot } = await world();
    const [windowA, windowB] = [await agent(f.serve.url), await agent(f.serve.url)];
    // Window A: the hook first, as Claude Code runs PreToolUse before the call.
    await hook(f, 'PreToolUse', {
      session_id: 'cc-a',
      tool_name: 'mcp__toolproxy__hold',
      tool_use_id: 'toolu_a',
      tool_input: { label: 'a' },
    });
    const a = hold(windowA, 'a', { [CLAUDE_CODE_TOOL_USE_META]: 'toolu_a' });
    // Window B: the call first, its hook late.
    const b = hold(windowB, 'b', { [CLAUDE_CODE_TOOL_USE_META]: 'toolu_b' });
    await robot.running(2);
    expect(
      await hook(f, 'PreToolUse', {
        session_id: 'cc-b',
        tool_name: 'mcp__toolproxy__hold',
        tool_use_id: 'toolu_b',
        tool_input: { label: 'b' },
      }),
    ).toMatchObject({ events: [], bound: ['call'] });

    expect(await hook(f, 'SessionEnd', { session_id: 'cc-a', reason: 'other' })).toMatchObject({
      events: ['session:end'],
      session: 'cc-a',
      rule: 'session',
      cancelled: 1,
      scoped: 1,
      unscoped: 0,
    });
    await expect(a).resolves.toMatchObject({ isError: true });
    expect([...robot.aborted]).toEqual([['a', 'session-ended']]);
    expect(f.serve.proxy.pendingCalls).toBe(1);

    // The window's MCP session is now bound to cc-b: its next call needs no hook.
    const b2 = hold(windowB, 'b2');
    await robot.running(3);
    expect(await hook(f, 'SessionEnd', { session_id: 'cc-b', reason: 'other' })).toMatchObject({
      scoped: 2,
      unscoped: 0,
    });
    await Promise.all([b, b2]);
    expect(robot.aborted.get('b2')).toBe('session-ended');
  });
});

describe('hermes-agent: one MCP session for every chat', () => {
  it('with forward_hermes_context, /stop in one chat cancels that chat only', async () => {
    const { fixture: f, robot } = await world();
    const hermes = await agent(f.serve.url);
    const context = (session_key: string) => ({
      [HERMES_CONTEXT_META]: { version: '1', session_key, session_id: `${session_key}-id` },
    });
    const a = hold(hermes, 'a', context('chat-a'));
    const b = hold(hermes, 'b', context('chat-b'));
    await robot.running(2);
    expect(
      await hook(f, 'agent_loop_stopped', { session_key: 'chat-a', reason: 'Stop requested' }),
    ).toMatchObject({ rule: 'session', scoped: 1, unscoped: 0 });
    await a;
    expect([...robot.aborted]).toEqual([['a', 'agent-loop-stopped']]);
    expect(f.serve.proxy.pendingCalls).toBe(1);
    expect(robot.aborted.has('b')).toBe(false);
    void b;
  });

  it('without it, the call is unbound: a stop of a chat nothing was placed in cancels it', async () => {
    const { fixture: f, robot } = await world();
    const hermes = await agent(f.serve.url);
    const call = hold(hermes, 'x');
    await robot.running(1);
    expect(await hook(f, 'agent_loop_stopped', { session_key: 'chat-x' })).toMatchObject({
      session: 'chat-x',
      rule: 'session-and-unbound',
      scoped: 0,
      unscoped: 1,
    });
    await call;
    expect(robot.aborted.get('x')).toBe('agent-loop-stopped');
  });
});

describe('docker-agent: its pre_tool_use hook names the tool and input of the call it precedes', () => {
  it("turn_end (canceled) of one session cancels that session's call, not another's", async () => {
    const { fixture: f, robot } = await world();
    const [one, two] = [await agent(f.serve.url), await agent(f.serve.url)];
    await hook(f, 'pre_tool_use', {
      session_id: 'da-1',
      tool_name: 'hold',
      tool_use_id: 'call_1',
      tool_input: { label: 'one' },
    });
    await hook(f, 'pre_tool_use', {
      session_id: 'da-2',
      tool_name: 'hold',
      tool_use_id: 'call_2',
      tool_input: { label: 'two' },
    });
    const first = hold(one, 'one');
    const second = hold(two, 'two');
    await robot.running(2);
    expect(await hook(f, 'turn_end', { session_id: 'da-1', reason: 'canceled' })).toMatchObject({
      events: ['agent_loop_stopped'],
      rule: 'session',
      scoped: 1,
      unscoped: 0,
    });
    await first;
    expect([...robot.aborted]).toEqual([['one', 'agent-loop-stopped']]);
    expect(await hook(f, 'session_end', { session_id: 'da-2', reason: 'other' })).toMatchObject({
      scoped: 1,
    });
    await second;
    expect(robot.aborted.get('two')).toBe('session-ended');
  });
});

describe("serve's hook route decodes the event name once", () => {
  it('session%3Aend is session:end; session%253Aend is unknown; a bad escape is a JSON 400', async () => {
    fixture = await startServeFixture();
    const f = fixture;
    const post = (name: string) =>
      fetch(`${f.serve.url}/hooks/${name}`, { method: 'POST', body: '{}' }).then(
        async (response) => ({ status: response.status, body: (await response.json()) as object }),
      );
    expect(await post('session%3Aend')).toMatchObject({
      status: 200,
      body: { events: ['session:end'] },
    });
    expect(await post('session%253Aend')).toMatchObject({ status: 404 });
    expect(await post('session%E0%A4%A')).toMatchObject({
      status: 400,
      body: { accepted: false, error: expect.stringContaining('percent-encoding') },
    });
  });
});
