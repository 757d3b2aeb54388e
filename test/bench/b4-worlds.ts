/**
 * What B4 (stop latency end to end) runs against: `toolproxy serve` in this process (`startServe`
 * on 127.0.0.1, the embedded WebSocket bridge, pino logging synchronously as the CLI does) with the
 * SDK's MCP client connected, its provider in the far-end process (b4-provider.ts); and the floor,
 * a bare HTTP server here that writes one WebSocket frame per POST to a `ws` client there.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { devNull } from 'node:os';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { pino } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { mintProviderToken } from '../../bridge/websocket/index.js';
import { type RunningServe, startServe } from '../../proxy/cli/serve.js';
import { KeepAlivePoster } from './b4-http.js';
import { type FarEnd, HOLD_TOOL } from './b4-peer.js';

const ROOM = 'bench';
const KEYS = { apiKey: 'bench-key', apiSecret: 'bench-secret-0123456789abcdef012345' };

/** `toolproxy serve` with one provider (in `far`) holding calls, and an MCP client connected. */
export interface ServeWorld {
  readonly serve: RunningServe;
  readonly port: number;
  /** The SDK's real client over Streamable HTTP (one session). */
  readonly mcp: Client;
  /** That client's `Mcp-Session-Id` and negotiated protocol version. */
  readonly sessionId: string;
  readonly protocolVersion: string;
  /** The MCP client's requests whose answer has not begun (a stream counts until its headers). */
  readonly mcpRequestsOpen: () => number;
  /** Keep-alive POSTs to the hook endpoint. */
  readonly hooks: KeepAlivePoster;
  close(): Promise<void>;
}

export async function serveWorld(far: FarEnd): Promise<ServeWorld> {
  // The CLI's logger (proxy/cli/main.ts) with the null device for stderr: the same serialisation
  // and one synchronous write per line, without flooding the bench's output.
  const stderr = pino.destination({ dest: devNull, sync: true });
  const logger = pino({ level: 'info', base: { name: 'toolproxy' } }, stderr);
  const serve = await startServe(
    {
      host: '127.0.0.1',
      port: 0,
      logLevel: 'info',
      mcp: 'http',
      room: ROOM,
      keys: { ...KEYS, generated: false },
      livekit: undefined,
    },
    { logger, announce: () => {} },
  );
  const port = Number(new URL(serve.url).port);
  const token = await mintProviderToken({ ...KEYS, room: ROOM, identity: 'robot' });
  await far.command({ type: 'provider', url: `ws://127.0.0.1:${port}/bridge`, token });
  await serve.proxy.waitForTool(HOLD_TOOL, { signal: AbortSignal.timeout(10_000) });

  // Counts the client's requests until their answer's headers are in (a stream may stay open).
  let open = 0;
  const counting: FetchLike = async (url, init) => {
    open++;
    try {
      return await fetch(url, init);
    } finally {
      open--;
    }
  };
  const transport = new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp`), {
    fetch: counting,
  });
  const mcp = new Client({ name: 'bench-agent', version: '1.0.0' });
  await mcp.connect(transport);
  await mcp.listTools();
  const sessionId = transport.sessionId;
  const protocolVersion = transport.protocolVersion;
  if (sessionId === undefined || protocolVersion === undefined)
    throw new Error('bench: the MCP session has no id or no protocol version');
  const hooks = new KeepAlivePoster(port);
  return {
    serve,
    port,
    mcp,
    sessionId,
    protocolVersion,
    mcpRequestsOpen: () => open,
    hooks,
    close: async () => {
      hooks.close();
      await transport.terminateSession().catch(() => {});
      await mcp.close();
      await serve.close();
      stderr.end();
    },
  };
}

/**
 * The floor: the least a hook endpoint that tells a provider over WebSocket can do. A bare
 * `http.createServer` on 127.0.0.1 that reads a POST's body, parses it, writes one frame naming
 * its session to the connected `ws` client and answers 200. No routing, validation, call table,
 * logging or codec; the client only notes the frame's `message` event.
 */
export interface FloorWorld {
  readonly port: number;
  readonly hooks: KeepAlivePoster;
  close(): Promise<void>;
}

/** The floor's server here, its client in `far` (whose `frames` report each `message` event). */
export async function floorWorld(far: FarEnd): Promise<FloorWorld> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  let peer: WebSocket | undefined;
  const server = createServer((request, response) => {
    void readBody(request).then((body) => {
      const { session_key: session } = JSON.parse(body) as { session_key: string };
      peer?.send(`{"type":"stop","session_key":${JSON.stringify(session)}}`);
      const answer = '{"accepted":true}';
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(answer),
      });
      response.end(answer);
    });
  });
  server.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => (peer = ws));
  });
  const port = await listen(server);
  await far.command({ type: 'floor', url: `ws://127.0.0.1:${port}/` });
  while (peer === undefined) await new Promise((resolve) => setImmediate(resolve));
  const hooks = new KeepAlivePoster(port);
  return {
    port,
    hooks,
    close: async () => {
      hooks.close();
      for (const socket of wss.clients) socket.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}
