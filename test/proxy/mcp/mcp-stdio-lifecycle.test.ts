/**
 * `toolproxy serve --mcp stdio` as agents launch it, the real CLI in child processes: it lives as
 * long as its client's stdin; a second one on the same port relays to the first (session key,
 * progress, cancellation, list changes), takes the port over when the first dies, and ends its
 * upstream session with its own client. A port held by something else is a clear exit 1.
 * Everything waits on events and process exits, never on the clock.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { mintProviderToken } from '../../../bridge/websocket/index.js';

type Message = Record<string, unknown>;

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'bin', 'toolproxy.mjs');
const KEYS = { apiKey: 'lifecycle-key', apiSecret: 'lifecycle-secret-0123456789abcdef0123' };
const TIMEOUT = 120_000;

/** The inherited environment without anything that would change what serve does. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^(LIVEKIT_|TOOLPROXY_|CLAUDE_CODE_)/.test(name)) continue;
    env[name] = value;
  }
  return {
    ...env,
    NODE_ENV: 'production',
    TOOLPROXY_API_KEY: KEYS.apiKey,
    TOOLPROXY_API_SECRET: KEYS.apiSecret,
    ...extra,
  };
}

/** Items as they arrive, and promises for the first one (seen or to come) that matches. */
class Inbox<T> {
  readonly items: T[] = [];
  readonly #waiters: Array<{ match: (item: T) => boolean; resolve: (item: T) => void }> = [];

  push(item: T): void {
    this.items.push(item);
    for (const waiter of [...this.#waiters]) {
      if (!waiter.match(item)) continue;
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(item);
    }
  }

  next(match: (item: T) => boolean): Promise<T> {
    const seen = this.items.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }
}

const children: ChildProcessWithoutNullStreams[] = [];
const sockets: WebSocket[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const socket of sockets.splice(0)) socket.terminate();
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

/** `serve --mcp stdio` spoken to in raw newline-delimited JSON-RPC, as an agent would. */
class StdioAgent {
  readonly child: ChildProcessWithoutNullStreams;
  readonly messages = new Inbox<Message>();
  readonly stderr = new Inbox<string>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout = '';
  #nextId = 1;

  constructor(port: number, env: Record<string, string> = {}) {
    this.child = spawn(
      process.execPath,
      [bin, 'serve', '--mcp', 'stdio', '--port', String(port), '--log-level', 'info'],
      { cwd: root, env: cleanEnv(env) },
    );
    children.push(this.child);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    let buffer = '';
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      buffer += chunk;
      for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n')) {
        this.messages.push(JSON.parse(buffer.slice(0, end)) as Message); // only JSON on stdout
        buffer = buffer.slice(end + 1);
      }
    });
    let line = '';
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      line += chunk;
      for (let end = line.indexOf('\n'); end !== -1; end = line.indexOf('\n')) {
        this.stderr.push(line.slice(0, end));
        line = line.slice(end + 1);
      }
    });
  }

  /** The stderr line matching `pattern` (already written or to come). */
  said(pattern: RegExp): Promise<string> {
    return this.stderr.next((text) => pattern.test(text));
  }

  send(message: Message): void {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  }

  /** Sends a request; `answer` settles with its response. */
  request(method: string, params: Message = {}): { id: number; answer: Promise<Message> } {
    const id = this.#nextId++;
    this.send({ id, method, params });
    return { id, answer: this.messages.next((message) => message.id === id) };
  }

  async initialize(): Promise<void> {
    const { answer } = this.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'lifecycle-agent', version: '1.0.0' },
    });
    expect(await answer).toHaveProperty('result.serverInfo.name', 'toolproxy');
    this.send({ method: 'notifications/initialized' });
  }

  async toolNames(): Promise<string[]> {
    const list = (await this.request('tools/list').answer) as {
      result: { tools: Array<{ name: string }> };
    };
    return list.result.tools.map((tool) => tool.name);
  }

  call(name: string, args: Message = {}, meta?: Message) {
    return this.request('tools/call', { name, arguments: args, ...(meta ? { _meta: meta } : {}) });
  }

  notified(method: string, after = 0): Promise<Message> {
    return this.messages.next(
      (message) => message.method === method && this.messages.items.indexOf(message) >= after,
    );
  }
}

/** A provider speaking PROTOCOL.md over the embedded WebSocket bridge. */
class RawProvider {
  readonly frames = new Inbox<Message>();
  readonly socket: WebSocket;
  readonly opened: Promise<void>;

  constructor(port: number, token: string) {
    this.socket = new WebSocket(`ws://127.0.0.1:${port}/bridge?token=${token}`);
    sockets.push(this.socket);
    this.socket.on('message', (data: Buffer) =>
      this.frames.push(JSON.parse(String(data)) as Message),
    );
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve()).once('error', reject);
    });
  }

  static async connect(port: number, identity = 'robot'): Promise<RawProvider> {
    const token = await mintProviderToken({ ...KEYS, room: 'toolproxy', identity });
    const provider = new RawProvider(port, token);
    await provider.opened;
    return provider;
  }

  send(frame: Message): void {
    this.socket.send(JSON.stringify(frame));
  }

  async register(...names: string[]): Promise<void> {
    for (const name of names) {
      this.send({
        type: 'client:tool-register',
        name,
        description: `${name} tool`,
        input_schema: { type: 'object' },
      });
      await this.frames.next((f) => f.type === 'agent:tool-registered' && f.name === name);
    }
  }

  /** The call_id of the `agent:tool-call` number `n` (0-based) for tool `name`. */
  async callId(name: string, n = 0): Promise<string> {
    await this.frames.next(
      (f) => f.type === 'agent:tool-call' && this.#calls(name).indexOf(f) === n,
    );
    return String(this.#calls(name)[n]?.call_id);
  }

  cancelled(callId: string): Promise<Message> {
    return this.frames.next((f) => f.type === 'agent:tool-call-cancelled' && f.call_id === callId);
  }

  #calls(name: string): Message[] {
    return this.frames.items.filter((f) => f.type === 'agent:tool-call' && f.name === name);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The first `serve --mcp stdio` on `port`, once it listens, with a provider of `tools`. */
async function firstProxy(port: number, env: Record<string, string> = {}, ...tools: string[]) {
  const agent = new StdioAgent(port, env);
  await agent.said(/toolproxy listening on http:\/\/127\.0\.0\.1:\d+/);
  await agent.initialize();
  const provider = await RawProvider.connect(port);
  await provider.register(...tools);
  return { agent, provider };
}

function text(response: Message): string {
  const result = response.result as { content: Array<{ text: string }>; isError?: boolean };
  return result.content.map((block) => block.text).join('');
}

describe('serve --mcp stdio ends with its client', () => {
  it(
    'closing stdin exits 0: its call is cancelled caller-gone, other calls proxy-shutting-down',
    async () => {
      const port = await freePort();
      const { agent, provider } = await firstProxy(port, {}, 'hold');
      agent.call('hold');
      const stdioCallId = await provider.callId('hold', 0);
      const http = new Client({ name: 'http-agent', version: '1.0.0' });
      await http.connect(
        new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)),
      );
      const httpCall = http
        .callTool({ name: 'hold', arguments: {} })
        .catch((error: unknown) => error);
      const httpCallId = await provider.callId('hold', 1);

      agent.child.stdin.end();
      expect(await agent.exited).toEqual({ code: 0, signal: null });
      expect(await provider.cancelled(stdioCallId)).toMatchObject({ reason: 'caller-gone' });
      expect(await provider.cancelled(httpCallId)).toMatchObject({
        reason: 'proxy-shutting-down',
      });
      await httpCall;
      await http.close();
    },
    TIMEOUT,
  );

  it(
    'a port held by a program that is not toolproxy: exit 1 with a clear message, stdout empty',
    async () => {
      const other = createServer((_request, response) => response.end('{"status":"ok"}'));
      servers.push(other);
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      const { port } = other.address() as AddressInfo;
      const agent = new StdioAgent(port);
      expect(await agent.exited).toEqual({ code: 1, signal: null });
      await agent.said(
        new RegExp(`127\\.0\\.0\\.1:${port} is in use by a program that is not toolproxy`),
      );
      expect(agent.stdout).toBe('');
    },
    TIMEOUT,
  );
});

describe('a second serve --mcp stdio on the port relays to the running proxy', () => {
  it(
    'lists, calls with progress, forwards list changes, carries its session, relays cancels, ends with stdin',
    async () => {
      const port = await freePort();
      const { agent: first, provider } = await firstProxy(
        port,
        { CLAUDE_CODE_SESSION_ID: 'agent-a' },
        'echo',
        'hold',
      );
      const relay = new StdioAgent(port, { CLAUDE_CODE_SESSION_ID: 'agent-b' });
      await relay.said(/relaying MCP on stdio to the toolproxy at http:\/\/127\.0\.0\.1:\d+/);
      await relay.initialize();
      expect(await relay.toolNames()).toEqual(['echo', 'hold']);

      // A call with progress: the provider's progress comes back under the client's token.
      const echo = relay.call('echo', { text: 'hi' }, { progressToken: 'p-1' });
      const echoId = await provider.callId('echo');
      provider.send({ type: 'client:tool-progress', call_id: echoId, progress: 1, total: 2 });
      expect(await relay.notified('notifications/progress')).toMatchObject({
        params: { progressToken: 'p-1', progress: 1, total: 2 },
      });
      provider.send({ type: 'client:tool-result', call_id: echoId, result: 'hi' });
      expect(text(await echo.answer)).toBe('hi');

      // A provider's new tool reaches the relay's client as tools/list_changed.
      const seen = relay.messages.items.length;
      await provider.register('late');
      await relay.notified('notifications/tools/list_changed', seen);
      expect(await relay.toolNames()).toEqual(['echo', 'hold', 'late']);

      // Each process's calls are its agent session's: a stop of session agent-b cancels only
      // the relay's call, not the first proxy's own stdio client's.
      first.call('hold');
      const firstHoldId = await provider.callId('hold', 0);
      const relayHold = relay.call('hold');
      const relayHoldId = await provider.callId('hold', 1);
      const stop = async (session: string) => {
        const hook = await fetch(`http://127.0.0.1:${port}/hooks/agent_loop_stopped`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ session_key: session, reason: 'Stop requested' }),
        });
        return (await hook.json()) as Message;
      };
      // scoped: the relay's call was placed in session agent-b, not cancelled as an unbound one.
      expect(await stop('agent-b')).toMatchObject({
        accepted: true,
        cancelled: 1,
        scoped: 1,
        unscoped: 0,
      });
      expect(await provider.cancelled(relayHoldId)).toMatchObject({ reason: 'agent-loop-stopped' });
      expect(await relayHold.answer).toHaveProperty('result.isError', true);

      // The client's notifications/cancelled cancels the call upstream.
      const cancelled = relay.call('hold');
      const cancelledId = await provider.callId('hold', 2);
      relay.send({ method: 'notifications/cancelled', params: { requestId: cancelled.id } });
      expect(await provider.cancelled(cancelledId)).toMatchObject({ reason: 'caller-aborted' });

      // Its stdin closing ends the relay and its upstream session (cancelling its call there);
      // the first proxy and its client's call carry on.
      relay.call('hold');
      const lastId = await provider.callId('hold', 3);
      relay.child.stdin.end();
      expect(await relay.exited).toEqual({ code: 0, signal: null });
      expect(await provider.cancelled(lastId)).toMatchObject({ reason: 'caller-gone' });
      expect(await first.toolNames()).toEqual(['echo', 'hold', 'late']);
      expect(first.child.exitCode).toBeNull();
      expect(
        provider.frames.items.some(
          (f) => f.call_id === firstHoldId && f.type !== 'agent:tool-call',
        ),
      ).toBe(false);

      // The first proxy's own stdio calls are in its CLAUDE_CODE_SESSION_ID's session too.
      expect(await stop('agent-a')).toMatchObject({ cancelled: 1, scoped: 1, unscoped: 0 });
      expect(await provider.cancelled(firstHoldId)).toMatchObject({
        reason: 'agent-loop-stopped',
      });
      first.child.stdin.end();
      expect(await first.exited).toEqual({ code: 0, signal: null });
    },
    TIMEOUT,
  );

  it(
    'sends TOOLPROXY_HOOK_SECRET as its bearer; without the right one it exits 1 saying so',
    async () => {
      const port = await freePort();
      const secret = { TOOLPROXY_HOOK_SECRET: 'hook-secret-for-the-relay-test' };
      const { agent: first } = await firstProxy(port, secret, 'hold');
      const relay = new StdioAgent(port, secret);
      await relay.said(/relaying MCP on stdio/);
      await relay.initialize();
      expect(await relay.toolNames()).toEqual(['hold']);

      const refused = new StdioAgent(port);
      expect(await refused.exited).toEqual({ code: 1, signal: null });
      await refused.said(/refused this relay \(401\): set TOOLPROXY_HOOK_SECRET/);
      expect(refused.stdout).toBe('');
      relay.child.stdin.end();
      first.child.stdin.end();
      expect(await relay.exited).toEqual({ code: 0, signal: null });
      expect(await first.exited).toEqual({ code: 0, signal: null });
    },
    TIMEOUT,
  );

  it.each([
    ['is killed', 'SIGKILL'],
    ['shuts down as its client leaves', 'stdin'],
  ] as const)(
    'the running proxy %s mid-call: the call answers isError, the relay takes the port over',
    async (_how, way) => {
      const port = await freePort();
      const { agent: first, provider } = await firstProxy(port, {}, 'hold');
      const relay = new StdioAgent(port, { CLAUDE_CODE_SESSION_ID: 'agent-b' });
      await relay.said(/relaying MCP on stdio/);
      await relay.initialize();
      const held = relay.call('hold');
      const heldId = await provider.callId('hold');

      if (way === 'SIGKILL') first.child.kill('SIGKILL');
      else first.child.stdin.end();
      const answer = await held.answer;
      expect(answer).toHaveProperty('result.isError', true);
      if (way === 'SIGKILL') {
        // Nobody answered: the relay says what happened and what to do.
        expect(text(answer)).toMatch(/went away while this call was running.*retry only if/s);
      } else {
        // The proxy cancelled it on its way out, and told the provider.
        expect(await provider.cancelled(heldId)).toMatchObject({ reason: 'proxy-shutting-down' });
        expect(await first.exited).toEqual({ code: 0, signal: null });
      }

      // The relay is the proxy now: providers reconnect to the same port, its client keeps its
      // session (no new initialize) and is told the tools changed.
      await relay.said(new RegExp(`toolproxy listening on http://127\\.0\\.0\\.1:${port}`));
      const seen = relay.messages.items.length;
      const back = await RawProvider.connect(port);
      await back.register('hold');
      await relay.notified('notifications/tools/list_changed', seen);
      expect(await relay.toolNames()).toEqual(['hold']);
      relay.call('hold');
      const callId = await back.callId('hold');
      relay.child.stdin.end();
      expect(await relay.exited).toEqual({ code: 0, signal: null });
      expect(await back.cancelled(callId)).toMatchObject({ reason: 'caller-gone' });
    },
    TIMEOUT,
  );
});
