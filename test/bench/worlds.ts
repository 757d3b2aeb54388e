/**
 * What the scenarios run against, built from the project's own parts exactly as users wire them:
 * a `ToolProxy` on the in-memory bridge with raw providers that never answer (cancel fan-out,
 * memory), a `ToolProvider` echo tool on the in-memory bridge (call overhead, memory), and the same
 * echo tool over the WebSocket bridge on loopback.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { type InMemoryChannel, InMemoryRoom } from '../../bridge/memory.js';
import { mintProviderToken, WebSocketBridge } from '../../bridge/websocket/index.js';
import { webSocketProviderChannel } from '../../bridge/websocket/provider.js';
import {
  type ChannelHandlers,
  defineTool,
  type PeerInfo,
  type ToolChannel,
  ToolProvider,
  ToolProxy,
} from '../../src/index.js';
import { until } from './stats.js';

/** How a cancel notice starts on the wire (the proxy writes `type` first). */
export const CANCEL_NOTICE_PREFIX = '{"type":"agent:tool-call-cancelled"';
const CALL_PREFIX = '{"type":"agent:tool-call",';

/**
 * The proxy's channel, counting the cancel notices handed to it: the moment the `target`-th one is
 * handed over is the moment the bridge has every notice.
 */
export class CountingChannel implements ToolChannel {
  readonly #inner: ToolChannel;
  cancelNotices = 0;
  target = Number.POSITIVE_INFINITY;
  /** `performance.now()` when the `target`-th cancel notice was handed over. */
  reachedAt = Number.NaN;

  constructor(inner: ToolChannel) {
    this.#inner = inner;
  }

  get identity(): string {
    return this.#inner.identity;
  }

  /** Counts from zero again, up to `target`. */
  expect(target: number): void {
    this.cancelNotices = 0;
    this.target = target;
    this.reachedAt = Number.NaN;
  }

  start(handlers: ChannelHandlers): Promise<void> {
    return this.#inner.start(handlers);
  }

  peers(): readonly PeerInfo[] {
    return this.#inner.peers();
  }

  send(to: string, text: string): Promise<void> | void {
    if (text.startsWith(CANCEL_NOTICE_PREFIX) && ++this.cancelNotices === this.target)
      this.reachedAt = performance.now();
    return this.#inner.send(to, text);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/**
 * A provider speaking the wire protocol by hand: it registers one tool with a real input schema
 * (so every call is validated) and never answers; it only counts the frames it is sent.
 */
class SilentProvider {
  readonly channel: InMemoryChannel;
  readonly tool: string;
  calls = 0;
  cancels = 0;

  constructor(room: InMemoryRoom, identity: string, tool: string) {
    this.channel = room.join(identity);
    this.tool = tool;
  }

  async start(proxy: string): Promise<void> {
    await this.channel.start({
      onFrame: (_from, text) => {
        if (text.startsWith(CALL_PREFIX)) this.calls++;
        else if (text.startsWith(CANCEL_NOTICE_PREFIX)) this.cancels++;
      },
      onPeerJoined: () => {},
      onPeerLeft: () => {},
      onConnected: () => {},
      onClosed: () => {},
    });
    await this.channel.send(
      proxy,
      JSON.stringify({
        type: 'client:tool-register',
        name: this.tool,
        description: 'Moves one step; never answers',
        input_schema: {
          type: 'object',
          properties: { step: { type: 'integer', minimum: 0 } },
          required: ['step'],
          additionalProperties: false,
        },
      }),
    );
  }
}

export interface SilentWorld {
  readonly proxy: ToolProxy;
  readonly channel: CountingChannel;
  /** One tool per provider, in provider order. */
  readonly tools: readonly string[];
  /** Call frames the providers have received. */
  callsReceived(): number;
  /** Cancel notices the providers have received. */
  cancelsReceived(): number;
  close(): Promise<void>;
}

/** A proxy (default options: 30 s deadline, validation) with `providers` silent providers. */
export async function silentWorld(providers: number): Promise<SilentWorld> {
  const room = new InMemoryRoom();
  const channel = new CountingChannel(room.join('agent', { isAgent: true }));
  const proxy = new ToolProxy();
  await proxy.start(channel);
  const peers = Array.from(
    { length: providers },
    (_, i) => new SilentProvider(room, `robot-${i}`, `move_${i}`),
  );
  for (const peer of peers) await peer.start('agent');
  for (const peer of peers) await proxy.waitForTool(peer.tool);
  return {
    proxy,
    channel,
    tools: peers.map((peer) => peer.tool),
    callsReceived: () => peers.reduce((sum, peer) => sum + peer.calls, 0),
    cancelsReceived: () => peers.reduce((sum, peer) => sum + peer.cancels, 0),
    close: async () => {
      await proxy.close();
      for (const peer of peers) await peer.channel.close();
    },
  };
}

/** What the call-overhead scenarios drive: one call at a time or many at once. */
export interface EchoSubject {
  /** Resolves with the echoed text. */
  call(text: string): Promise<string>;
  close(): Promise<void>;
}

export const ECHO_DESCRIPTION = 'Echo the text back';

/** The echo tool as a toolproxy provider defines it (zod; validated on both sides). */
export function echoTool() {
  return defineTool({
    name: 'echo',
    description: ECHO_DESCRIPTION,
    input: z.object({ text: z.string() }),
    handler: ({ text }) => text,
  });
}

/** Narrows a proxy call's result to the echoed text (a bench that echoes wrongly must fail). */
export function expectText(value: unknown): string {
  if (typeof value !== 'string') throw new Error(`echo returned ${typeof value}, not a string`);
  return value;
}

export interface EchoWorld extends EchoSubject {
  readonly proxy: ToolProxy;
}

/** `ToolProxy` → in-memory bridge → `ToolProvider` with the echo tool. */
export async function inMemoryEchoWorld(): Promise<EchoWorld> {
  const room = new InMemoryRoom();
  const proxy = new ToolProxy();
  await proxy.start(room.join('agent', { isAgent: true }));
  const provider = new ToolProvider({ tools: [echoTool()] });
  await provider.connect(room.join('robot'));
  await proxy.waitForTool('echo');
  return {
    proxy,
    call: async (text) => expectText(await proxy.call('echo', { text })),
    close: async () => {
      await provider.close();
      await proxy.close();
    },
  };
}

const WS_CREDENTIALS = { apiKey: 'bench-key', apiSecret: 'bench-secret-0123456789abcdef012345' };

/**
 * `ToolProxy` → `WebSocketBridge` on a node HTTP server on 127.0.0.1 → `webSocketProviderChannel`
 * (the `ws` client) → `ToolProvider` with the echo tool.
 */
export async function webSocketEchoWorld(): Promise<EchoWorld> {
  const bridge = new WebSocketBridge({ ...WS_CREDENTIALS, room: 'bench', identity: 'toolproxy' });
  const server = createServer((_request, response) => response.writeHead(404).end());
  server.on('upgrade', (request, socket, head) => {
    if (!bridge.handleUpgrade(request, socket, head)) socket.destroy();
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  const proxy = new ToolProxy();
  await proxy.start(bridge);
  const token = await mintProviderToken({ ...WS_CREDENTIALS, room: 'bench', identity: 'robot' });
  const provider = new ToolProvider({ tools: [echoTool()] });
  await provider.connect(
    webSocketProviderChannel({
      url: `ws://127.0.0.1:${port}/bridge`,
      token,
      WebSocket,
      proxyIdentity: 'toolproxy',
    }),
  );
  await proxy.waitForTool('echo', { signal: AbortSignal.timeout(10_000) });
  return {
    proxy,
    call: async (text) => expectText(await proxy.call('echo', { text })),
    close: async () => {
      await provider.close();
      await proxy.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Waits until the providers of `world` have been handed `n` call frames. */
export function callsDelivered(world: SilentWorld, n: number): Promise<void> {
  return until(() => world.callsReceived() >= n, `${n} call frames to reach the providers`);
}
