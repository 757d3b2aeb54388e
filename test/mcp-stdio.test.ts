/**
 * MCP over stdio: serveMcpStdio on a pair of PassThrough streams, spoken to in newline-delimited
 * JSON-RPC as an MCP client would.
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../bridge/memory.js';
import { type McpStdioSession, serveMcpStdio } from '../proxy/mcp/index.js';
import { defineTool, ToolProvider, ToolProxy } from '../src/index.js';
import { deferred } from './support/util.js';

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

function send(message: Message): void {
  stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
}

async function initialize(): Promise<Message> {
  send({
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'stdio-agent', version: '1.0.0' },
    },
  });
  const response = await reader.next();
  send({ method: 'notifications/initialized' });
  return response;
}

function listeners(): number {
  return (
    proxy.hooks.listenerCount('tool:registered') + proxy.hooks.listenerCount('tool:unregistered')
  );
}

beforeEach(async () => {
  room = new InMemoryRoom();
  proxy = new ToolProxy();
  await proxy.start(room.join('agent', { isAgent: true }));
  aborts.length = 0;
  started = deferred();
  robot = new ToolProvider({
    tools: [
      defineTool({
        name: 'echo',
        description: 'Echo the text back',
        input: z.object({ text: z.string() }),
        handler: ({ text }) => text,
      }),
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
    ],
  });
  await robot.connect(room.join('robot'));
  await proxy.waitForTool('hold');
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

  it('ends when stdin ends: running calls cancelled, proxy listeners released', async () => {
    await initialize();
    expect(listeners()).toBe(2);
    send({ id: 9, method: 'tools/call', params: { name: 'hold', arguments: {} } });
    await started.promise;
    stdin.end();
    await session.closed;
    await vi.waitFor(() => expect(aborts).toHaveLength(1));
    expect(listeners()).toBe(0);
    expect(proxy.pendingCalls).toBe(0);
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
