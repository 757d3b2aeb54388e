/**
 * The peers toolproxy is measured against: the MCP TypeScript SDK (its `Client.callTool` and
 * `McpServer`, over `InMemoryTransport` or Streamable HTTP on loopback), and a floor that does the
 * least a request/response link can do (a pending Map, JSON both ways, one timer per call).
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { until } from './stats.js';
import { ECHO_DESCRIPTION, type EchoSubject } from './worlds.js';

const CLIENT_INFO = { name: 'bench-agent', version: '1.0.0' };
const SERVER_INFO = { name: 'bench-server', version: '1.0.0' };

/** The echo tool as an MCP server defines it (zod; the SDK validates the arguments). */
function echoServer(): McpServer {
  const server = new McpServer(SERVER_INFO);
  server.registerTool(
    'echo',
    { description: ECHO_DESCRIPTION, inputSchema: { text: z.string() } },
    ({ text }): CallToolResult => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

/** The echoed text of a `tools/call` result. */
function echoedText(result: unknown): string {
  if (typeof result === 'object' && result !== null && 'content' in result) {
    const { content } = result;
    if (Array.isArray(content)) {
      const first: unknown = content[0];
      if (typeof first === 'object' && first !== null && 'text' in first) {
        const { text } = first;
        if (typeof text === 'string') return text;
      }
    }
  }
  throw new Error('MCP echo returned no text');
}

async function connectedClient(transport: Transport): Promise<Client> {
  const client = new Client(CLIENT_INFO);
  await client.connect(transport);
  await client.listTools(); // what an agent does first; caches the tools' metadata
  return client;
}

/** MCP SDK: `Client.callTool` → `McpServer` over `InMemoryTransport`. */
export async function mcpInMemoryEcho(): Promise<EchoSubject> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const server = echoServer();
  await server.connect(serverSide);
  const client = await connectedClient(clientSide);
  return {
    call: async (text) => echoedText(await client.callTool({ name: 'echo', arguments: { text } })),
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

/** MCP SDK: `Client.callTool` → `McpServer` over Streamable HTTP on 127.0.0.1 (one session). */
export async function mcpHttpEcho(): Promise<EchoSubject> {
  const server = echoServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID() });
  await server.connect(transport);
  const http = createServer((request, response) => {
    void transport.handleRequest(request, response);
  });
  const port = await new Promise<number>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve((http.address() as AddressInfo).port));
  });
  const clientTransport = new StreamableHTTPClientTransport(
    new URL(`http://127.0.0.1:${port}/mcp`),
  );
  const client = await connectedClient(clientTransport);
  return {
    call: async (text) => echoedText(await client.callTool({ name: 'echo', arguments: { text } })),
    close: async () => {
      await clientTransport.terminateSession();
      await client.close();
      await server.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/**
 * MCP SDK cancel fan-out: `n` `Client.callTool` requests in flight over `InMemoryTransport` to a
 * server whose tool never answers, all sharing one AbortController (as a session would).
 */
export interface McpHoldWorld {
  /** Starts `n` calls on `signal`; `onSettled` runs once per call as it rejects (or resolves). */
  start(n: number, signal: AbortSignal, onSettled: (rejected: boolean) => void): void;
  /** Requests the server's tool has received. */
  started(): number;
  close(): Promise<void>;
}

export async function mcpHoldWorld(): Promise<McpHoldWorld> {
  const server = new McpServer(SERVER_INFO);
  let started = 0;
  server.registerTool(
    'hold',
    { description: 'Moves one step; never answers', inputSchema: { step: z.number().int() } },
    () => {
      started++;
      return new Promise<CallToolResult>(() => {});
    },
  );
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = await connectedClient(clientSide);
  return {
    start: (n, signal, onSettled) => {
      // The SDK adds one 'abort' listener per request; a session of many calls needs this.
      setMaxListeners(n + 10, signal);
      for (let step = 0; step < n; step++) {
        client.callTool({ name: 'hold', arguments: { step } }, undefined, { signal }).then(
          () => onSettled(false),
          () => onSettled(true),
        );
      }
    },
    started: () => started,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

interface FloorFrame {
  readonly type: 'call' | 'result';
  readonly id: string;
  readonly text: string;
}

interface FloorPending {
  readonly resolve: (text: string) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * The floor: the least work a request/response link over text frames can do. A pending Map, one
 * timer per call, JSON encode and decode both ways, each frame delivered a microtask later (as the
 * in-memory bridge does), no validation, no cancellation, no events.
 */
export function floorEcho(): EchoSubject {
  const pending = new Map<string, FloorPending>();
  let next = 0;
  const decode = (text: string): FloorFrame => JSON.parse(text) as FloorFrame;
  const toCaller = (text: string): void => {
    const frame = decode(text);
    const entry = pending.get(frame.id);
    if (entry === undefined) return;
    pending.delete(frame.id);
    clearTimeout(entry.timer);
    entry.resolve(frame.text);
  };
  const toProvider = (text: string): void => {
    const frame = decode(text);
    const answer = JSON.stringify({ type: 'result', id: frame.id, text: frame.text });
    queueMicrotask(() => toCaller(answer));
  };
  return {
    call: (text) =>
      new Promise<string>((resolve, reject) => {
        const id = `c${next++}`;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error('timeout'));
        }, 30_000);
        pending.set(id, { resolve, timer });
        const frame = JSON.stringify({ type: 'call', id, text });
        queueMicrotask(() => toProvider(frame));
      }),
    close: () => {
      for (const entry of pending.values()) clearTimeout(entry.timer);
      pending.clear();
      return Promise.resolve();
    },
  };
}

/** Waits until the MCP server has received `n` requests. */
export function mcpRequestsDelivered(world: McpHoldWorld, n: number): Promise<void> {
  return until(() => world.started() >= n, `${n} MCP requests to reach the server`);
}
