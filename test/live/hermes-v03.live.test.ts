/**
 * An unmodified hermes-livekit v0.3 client in a real LiveKit room with `toolproxy serve`: the
 * client is Python on the real LiveKit Python SDK at v0.3's pins (test/live/v03_client.py; the
 * venv comes from scripts/ensure-python-livekit.mjs). It mints its own token, with no attributes,
 * so serve's default provider policy refuses its tools (`not-allowed`); `--providers any` or
 * `--providers identities:` admits it. An agent lists and calls its tools over MCP, and a stop
 * hook cancels a running call at once: the client is told `agent:tool-call-cancelled`.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { mcpPeerGate } from '../support/mcp-peers.js';
import {
  type JsonLine,
  received,
  startClient,
  startServe,
  stopAll,
  type Watched,
} from './v03-processes.js';

const livekit = inject('livekit');
const gate = mcpPeerGate('hermes-livekit v0.3 live tests', ['python-livekit']);
const AGENT = 'toolproxy-agent';
const TOOLS = ['desktop_notify', 'camera_permission', 'slow_scan'];
const CALL_ID = /^tc_[0-9a-f]{12}$/;
/** "At once": the stop hook's answer to the cancel frame reaching the client over the SFU. */
const CANCEL_WITHIN_MS = 1_000;

/**
 * livekit-server 1.13.5 announces a participant that publishes no tracks on a 3 s update tick but
 * forwards its data at once, and rtc-node (like the Python SDK) then names no sender: the proxy
 * cannot attribute the registrations of a client that joins after it and registers at once. It
 * greets such a joiner with `agent:hello`, which v0.3 clients ignore. Crediting the frames to the
 * next joiner instead would let a participant that joins, sends and leaves within the tick register
 * tools as another (measured), so they stay dropped; README says to start v0.3 clients first.
 * Nearly always lost, not always (a join can land on the tick first): hence not asserted either way.
 */
const JOINS_AFTER_SERVE_GAP: string | undefined =
  'a v0.3 client joining after serve loses the registrations it sends before the server announces it (3 s tick): v0.3 clients do not re-register on agent:hello';
if (JOINS_AFTER_SERVE_GAP !== undefined)
  console.warn(`hermes-livekit v0.3 case skipped (known gap): ${JOINS_AFTER_SERVE_GAP}`);

let roomCount = 0;
const freshRoom = () => `v03-${Date.now().toString(36)}-${++roomCount}`;

const mcpClients: Client[] = [];
async function mcpAt(base: string): Promise<Client> {
  const client = new Client({ name: 'v03-live-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', base)));
  mcpClients.push(client);
  return client;
}

/** The client's `agent:tool-registered` answer for each of its tools. */
async function registrations(client: Watched): Promise<JsonLine[]> {
  return Promise.all(
    TOOLS.map(
      async (name) =>
        (
          await client.line(
            received('agent:tool-registered', { name }),
            `agent:tool-registered for ${name}`,
          )
        ).frame as JsonLine,
    ),
  );
}

/**
 * In the room before the agent, as hermes-livekit v0.3 expects: its client registers when it sees
 * the agent join. (A client that joins after the agent and registers at once can lose its frames:
 * joins and data are not ordered, and a v0.3 client does not register again on `agent:hello`.)
 */
async function joined(client: Watched): Promise<Watched> {
  await client.line((line) => line.event === 'joined', "its 'joined' line");
  return client;
}

/** serve's start log line names the policy it applies. */
async function startedWith(serve: Watched, providers: string): Promise<void> {
  const line = await serve.line(
    (entry) => entry.msg === 'serve started',
    "'serve started' log line",
  );
  expect(line).toMatchObject({ mode: 'livekit', providers });
}

afterEach(async () => {
  await Promise.allSettled(mcpClients.splice(0).map((client) => client.close()));
  await stopAll();
});

describe.skipIf(gate.skip)('hermes-livekit v0.3 client (Python SDK) with toolproxy serve', () => {
  let python: string;
  beforeAll(() => {
    python = gate.peers()['python-livekit'].path;
  });

  it('--providers any: registers, is called over MCP, and a stop hook cancels its slow call at once', async () => {
    const room = freshRoom();
    const client = await joined(startClient(python, livekit, room, 'v03-desk'));
    const serve = await startServe(livekit, room, ['--providers', 'any']);
    await startedWith(serve.watched, 'any');
    for (const answer of await registrations(client))
      expect(answer).toMatchObject({ success: true });

    const mcp = await mcpAt(serve.url);
    const { tools } = await mcp.listTools();
    const notify = tools.find((tool) => tool.name === 'desktop_notify');
    expect(notify).toMatchObject({
      description: "Show a desktop notification on the user's machine.",
      inputSchema: { type: 'object', required: ['title'] },
    });
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(TOOLS));

    const shown = CallToolResultSchema.parse(
      await mcp.callTool({ name: 'desktop_notify', arguments: { title: 'Hi' } }),
    );
    expect(shown.isError).toBeFalsy();
    expect(shown.structuredContent).toEqual({ shown: true, title: 'Hi' });
    // The call reached the client as v0.3 reads it: flat, without a topic, from the agent.
    expect(
      await client.line(
        received('agent:tool-call', { name: 'desktop_notify' }),
        'agent:tool-call of desktop_notify',
      ),
    ).toMatchObject({
      topic: '',
      sender: AGENT,
      frame: { call_id: expect.stringMatching(CALL_ID), arguments: { title: 'Hi' } },
    });

    const refused = CallToolResultSchema.parse(
      await mcp.callTool({ name: 'camera_permission', arguments: {} }),
    );
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toContain('permission denied');

    const slow = mcp.callTool({ name: 'slow_scan', arguments: { area: 'kitchen' } });
    const started = await client.line(
      received('agent:tool-call', { name: 'slow_scan' }),
      'agent:tool-call of slow_scan',
    );
    const callId = (started.frame as JsonLine).call_id;
    expect(callId).toMatch(CALL_ID);
    const stoppedAt = performance.now();
    const hook = await fetch(new URL('/hooks/agent_loop_stopped', serve.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        session_key: 'v03-live',
        platform: 'livekit',
        reason: 'Stop requested',
      }),
    });
    expect(hook.status).toBe(200);
    const cancelled = await client.line(
      received('agent:tool-call-cancelled', { call_id: callId }),
      `agent:tool-call-cancelled for ${String(callId)}`,
      5_000,
    );
    const cancelMs = performance.now() - stoppedAt;
    expect(cancelMs).toBeLessThan(CANCEL_WITHIN_MS);
    expect(cancelled).toMatchObject({ topic: '', sender: AGENT, frame: { name: 'slow_scan' } });
    const outcome = CallToolResultSchema.parse(await slow);
    expect(outcome.isError).toBe(true);
    expect(JSON.stringify(outcome.content)).toContain(
      'cancelled because the agent loop was stopped',
    );
    // The client dropped the call on the cancel: nothing of it still runs when it leaves.
    await client.stop();
    expect(await client.line((line) => line.event === 'left', "its 'left' line")).toMatchObject({
      running: [],
    });
  }, 60_000);

  it('--providers identities: admits the listed client and refuses another identity', async () => {
    const room = freshRoom();
    const [desk, stranger] = await Promise.all([
      joined(startClient(python, livekit, room, 'v03-desk')),
      joined(startClient(python, livekit, room, 'v03-stranger')),
    ]);
    const serve = await startServe(livekit, room, ['--providers', 'identities:v03-desk']);
    await startedWith(serve.watched, 'identities:v03-desk');
    for (const answer of await registrations(desk)) expect(answer).toMatchObject({ success: true });
    for (const answer of await registrations(stranger))
      expect(answer).toMatchObject({ success: false, reason: 'not-allowed' });

    const mcp = await mcpAt(serve.url);
    const names = (await mcp.listTools()).tools.map((tool) => tool.name);
    expect(names.filter((name) => TOOLS.includes(name)).sort()).toEqual([...TOOLS].sort());
    const shown = CallToolResultSchema.parse(
      await mcp.callTool({ name: 'desktop_notify', arguments: { title: 'Only desk' } }),
    );
    expect(shown.structuredContent).toEqual({ shown: true, title: 'Only desk' });
    expect(stranger.lines.some(received('agent:tool-call'))).toBe(false);
  }, 60_000);

  it('the default policy (attribute) refuses a v0.3 client: its token has no attributes', async () => {
    const room = freshRoom();
    const client = await joined(startClient(python, livekit, room, 'v03-desk'));
    const serve = await startServe(livekit, room, []);
    await startedWith(serve.watched, 'attribute');
    for (const answer of await registrations(client))
      expect(answer).toMatchObject({ success: false, reason: 'not-allowed' });
    const mcp = await mcpAt(serve.url);
    const names = (await mcp.listTools()).tools.map((tool) => tool.name);
    expect(names.filter((name) => TOOLS.includes(name))).toEqual([]);
  }, 60_000);

  it.skipIf(JOINS_AFTER_SERVE_GAP !== undefined)(
    'a v0.3 client that joins after serve and registers at once is admitted too',
    async () => {
      const room = freshRoom();
      await startServe(livekit, room, ['--providers', 'any']);
      const client = startClient(python, livekit, room, 'v03-late');
      for (const answer of await registrations(client))
        expect(answer).toMatchObject({ success: true });
    },
    60_000,
  );
});
