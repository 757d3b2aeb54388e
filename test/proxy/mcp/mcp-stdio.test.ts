/**
 * MCP over stdio: serveMcpStdio on a pair of PassThrough streams, spoken to in newline-delimited
 * JSON-RPC as an MCP client would.
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../../bridge/memory.js';
import { type McpStdioSession, serveMcpStdio } from '../../../proxy/mcp/index.js';
import { serveMcpRelay } from '../../../proxy/mcp/relay.js';
import { connectLocalUpstream, type RelayUpstream } from '../../../proxy/mcp/relay-upstream.js';
import { defineTool, silentLogger, ToolProvider, ToolProxy } from '../../../src/index.js';
import { deferred } from '../../support/util.js';
import { echoTool, robotWorld } from '../../support/robot-world.js';

type Message = Record<string, unknown>;

/** Reads newline-delimited JSON from `stream`; every line must be JSON (nothing else on stdout). */
class LineReader {
  readonly #messages: Message[] = [];
  readonly #waiters: Array<(message: Message) => void> = [];
  #buffer = '';

  constructor(stream: PassThrough) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let newline = this.#buffer.indexOf('\n');
      while (newline !== -1) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        const message = JSON.parse(line) as Message;
        const waiter = this.#waiters.shift();
        if (waiter === undefined) this.#messages.push(message);
        else waiter(message);
        newline = this.#buffer.indexOf('\n');
      }
    });
  }

  next(): Promise<Message> {
    const queued = this.#messages.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  get leftover(): string {
    return this.#buffer;
  }
}

let room: InMemoryRoom;
let proxy: ToolProxy;
let robot: ToolProvider;
let stdin: PassThrough;
let stdout: PassThrough;
let reader: LineReader;
let session: McpStdioSession;
let started: ReturnType<typeof deferred<void>>;
const aborts: unknown[] = [];

function send(message: Message, to: PassThrough = stdin): void {
  to.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
}

async function initialize(to: PassThrough = stdin, from: LineReader = reader): Promise<Message> {
  send(
    {
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'stdio-agent', version: '1.0.0' },
      },
    },
    to,
  );
  const response = await from.next();
  send({ method: 'notifications/initialized' }, to);
  return response;
}

function listeners(): number {
  return (
    proxy.hooks.listenerCount('tool:registered') + proxy.hooks.listenerCount('tool:unregistered')
  );
}

beforeEach(async () => {
  aborts.length = 0;
  started = deferred();
  ({ room, proxy, robot } = await robotWorld([
    echoTool,
    defineTool({
      name: 'hold',
      description: 'Runs until aborted',
      input: z.object({}),
      handler: (_args, { signal }) => {
        started.resolve();
        return new Promise((_resolve, reject) => {
          signal.addEventListener(
            'abort',
            () => {
              aborts.push(signal.reason);
              reject(new Error('stopped'));
            },
            { once: true },
          );
        });
      },
    }),
  ]));
  stdin = new PassThrough();
  stdout = new PassThrough();
  reader = new LineReader(stdout);
  session = await serveMcpStdio(proxy, { stdin, stdout });
});

afterEach(async () => {
  await session.close();
  await robot.close();
  await proxy.close();
});

describe('serveMcpStdio', () => {
  it('answers initialize, tools/list and tools/call as newline-delimited JSON-RPC', async () => {
    expect(await initialize()).toMatchObject({
      jsonrpc: '2.0',
      id: 1,
      result: {
        capabilities: { tools: { listChanged: true } },
        serverInfo: { name: 'toolproxy' },
      },
    });
    send({ id: 2, method: 'tools/list' });
    const list = await reader.next();
    expect(list).toMatchObject({ id: 2, result: { tools: [{ name: 'echo' }, { name: 'hold' }] } });
    send({ id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } });
    expect(await reader.next()).toEqual({
      jsonrpc: '2.0',
      id: 3,
      result: { content: [{ type: 'text', text: 'hi' }] },
    });
    expect(reader.leftover).toBe('');
  });

  it('sends tools/list_changed when a provider joins', async () => {
    await initialize();
    const lab = new ToolProvider({
      tools: [
        defineTool({ name: 'scan', description: 'scan', input: z.object({}), handler: () => 1 }),
      ],
    });
    await lab.connect(room.join('lab'));
    try {
      expect(await reader.next()).toEqual({
        jsonrpc: '2.0',
        method: 'notifications/tools/list_changed',
      });
    } finally {
      await lab.close();
    }
  });

  it('notifications/cancelled cancels the call; the provider sees caller-aborted', async () => {
    await initialize();
    send({ id: 7, method: 'tools/call', params: { name: 'hold', arguments: {} } });
    await started.promise;
    send({ method: 'notifications/cancelled', params: { requestId: 7, reason: 'user stop' } });
    await vi.waitFor(() => expect(aborts).toHaveLength(1));
    expect(aborts[0]).toMatchObject({
      code: 'CANCELLED',
      reason: 'caller-aborted',
      detail: 'user stop',
    });
    expect(proxy.pendingCalls).toBe(0);
  });

  it('ends when stdin ends: its calls cancelled caller-gone, proxy listeners released', async () => {
    await initialize();
    expect(listeners()).toBe(2);
    send({ id: 9, method: 'tools/call', params: { name: 'hold', arguments: {} } });
    await started.promise;
    stdin.end();
    await session.closed;
    await vi.waitFor(() => expect(aborts).toHaveLength(1));
    expect(aborts[0]).toMatchObject({
      code: 'CANCELLED',
      reason: 'caller-gone',
      detail: 'the MCP client closed stdin',
    });
    expect(listeners()).toBe(0);
    expect(proxy.pendingCalls).toBe(0);
  });

  it('ends when stdout fails (EPIPE): its calls cancelled caller-gone, not other callers', async () => {
    await initialize();
    send({ id: 9, method: 'tools/call', params: { name: 'hold', arguments: {} } });
    await started.promise;
    started = deferred();
    const direct = proxy.call('hold', {}).catch((error: unknown) => error);
    await started.promise;
    stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await session.closed;
    await vi.waitFor(() => expect(aborts).toHaveLength(1));
    expect(aborts[0]).toMatchObject({
      reason: 'caller-gone',
      detail: 'the MCP client stopped reading stdout (EPIPE)',
    });
    expect(proxy.pendingCalls).toBe(1); // the call made directly on the proxy runs on
    expect(stdout.listenerCount('error')).toBe(0);
    await proxy.close();
    expect(await direct).toMatchObject({ reason: 'proxy-shutting-down' });
  });

  it('ends when stdin fails', async () => {
    await initialize();
    send({ id: 9, method: 'tools/call', params: { name: 'hold', arguments: {} } });
    await started.promise;
    stdin.destroy(new Error('read ECONNRESET'));
    await session.closed;
    await vi.waitFor(() => expect(aborts).toHaveLength(1));
    expect(aborts[0]).toMatchObject({
      reason: 'caller-gone',
      detail: 'stdin failed: read ECONNRESET',
    });
  });

  it('close() ends the session and is idempotent', async () => {
    await initialize();
    await session.close();
    await session.close();
    await session.closed;
    expect(listeners()).toBe(0);
    expect(stdin.listenerCount('data')).toBe(0);
    expect(stdin.listenerCount('end')).toBe(0);
  });
});

describe('serveMcpRelay (forwarding to an upstream MCP session)', () => {
  let relayIn: PassThrough;
  let relayOut: PassThrough;
  let relayReader: LineReader;
  let relay: McpStdioSession | undefined;
  const sessionKeys: Array<string | undefined> = [];

  beforeEach(() => {
    relayIn = new PassThrough();
    relayOut = new PassThrough();
    relayReader = new LineReader(relayOut);
    sessionKeys.length = 0;
    proxy.hooks.on('call:started', (event) => sessionKeys.push(event.sessionKey));
  });

  afterEach(async () => {
    await relay?.close();
    relay = undefined;
  });

  /** A relay to `upstream` on its own streams, initialized. */
  async function startRelay(
    upstream: RelayUpstream,
    reattach: () => Promise<RelayUpstream> = () => Promise.reject(new Error('no other proxy')),
  ): Promise<void> {
    relay = await serveMcpRelay({
      upstream,
      reattach,
      sessionKey: 'agent-b',
      stdin: relayIn,
      stdout: relayOut,
    });
    await initialize(relayIn, relayReader);
  }

  /** The upstream session with `proxy`, with a `lost` signal the test aborts. */
  async function cuttable(): Promise<{ upstream: RelayUpstream; cut: AbortController }> {
    const cut = new AbortController();
    const real = await connectLocalUpstream(proxy, { logger: silentLogger });
    return { upstream: { ...real, lost: cut.signal }, cut };
  }

  it('lists and calls, adding its session key only to requests that name none', async () => {
    await startRelay(await connectLocalUpstream(proxy, { logger: silentLogger }));
    send({ id: 2, method: 'tools/list' }, relayIn);
    expect(await relayReader.next()).toMatchObject({
      id: 2,
      result: { tools: [{ name: 'echo' }, { name: 'hold' }] },
    });
    send(
      { id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'a' } } },
      relayIn,
    );
    expect(await relayReader.next()).toEqual({
      jsonrpc: '2.0',
      id: 3,
      result: { content: [{ type: 'text', text: 'a' }] },
    });
    send(
      {
        id: 4,
        method: 'tools/call',
        params: {
          name: 'echo',
          arguments: { text: 'b' },
          _meta: { 'toolproxy/sessionKey': 'named-by-caller' },
        },
      },
      relayIn,
    );
    expect(await relayReader.next()).toMatchObject({ id: 4, result: { content: [{ text: 'b' }] } });
    expect(sessionKeys).toEqual(['agent-b', 'named-by-caller']);
  });

  it('its client leaving ends the upstream session: the call there is cancelled caller-gone', async () => {
    await startRelay(await connectLocalUpstream(proxy, { logger: silentLogger }));
    send({ id: 5, method: 'tools/call', params: { name: 'hold', arguments: {} } }, relayIn);
    await started.promise;
    relayIn.end();
    await relay?.closed;
    await vi.waitFor(() => expect(aborts).toHaveLength(1));
    expect(aborts[0]).toMatchObject({
      reason: 'caller-gone',
      detail: 'the MCP client closed stdin',
    });
    expect(proxy.pendingCalls).toBe(0);
  });

  it('the upstream lost mid-call: the call answers isError, the relay reattaches and says so', async () => {
    const { upstream, cut } = await cuttable();
    const other = await startOther();
    await startRelay(upstream, () => connectLocalUpstream(other.proxy, { logger: silentLogger }));
    send({ id: 6, method: 'tools/call', params: { name: 'hold', arguments: {} } }, relayIn);
    await started.promise;
    cut.abort(new Error('it closed the event stream'));
    const answer = await relayReader.next();
    expect(answer).toMatchObject({ id: 6, result: { isError: true } });
    expect(JSON.stringify(answer)).toMatch(
      /went away while this call was running \(it closed the event stream\)/,
    );
    expect(await relayReader.next()).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/tools/list_changed',
    });
    send({ id: 7, method: 'tools/list' }, relayIn);
    expect(await relayReader.next()).toMatchObject({
      id: 7,
      result: { tools: [{ name: 'scan' }] },
    });
    // The abandoned call was not left running on the old upstream either.
    await vi.waitFor(() => expect(aborts).toHaveLength(1));
    await other.close();
  });

  it('no upstream to be had: calls answer isError with what to do, tools/list an error', async () => {
    const { upstream, cut } = await cuttable();
    await startRelay(upstream, () => Promise.reject(new Error('the port is taken')));
    cut.abort(new Error('it did not answer'));
    send(
      { id: 8, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } },
      relayIn,
    );
    const answer = await relayReader.next();
    expect(answer).toMatchObject({ id: 8, result: { isError: true } });
    expect(JSON.stringify(answer)).toMatch(/the port is taken.*Start `toolproxy serve` again/);
    send({ id: 9, method: 'tools/list' }, relayIn);
    expect(await relayReader.next()).toMatchObject({ id: 9, error: { code: -32603 } });
  });
});

/** A second proxy with one tool, `scan`, as a proxy that took the port over would have. */
async function startOther(): Promise<{ proxy: ToolProxy; close(): Promise<void> }> {
  const otherRoom = new InMemoryRoom();
  const other = new ToolProxy();
  await other.start(otherRoom.join('agent', { isAgent: true }));
  const lab = new ToolProvider({
    tools: [
      defineTool({ name: 'scan', description: 'scan', input: z.object({}), handler: () => 1 }),
    ],
  });
  await lab.connect(otherRoom.join('lab'));
  await other.waitForTool('scan');
  return {
    proxy: other,
    close: async () => {
      await lab.close();
      await other.close();
    },
  };
}
