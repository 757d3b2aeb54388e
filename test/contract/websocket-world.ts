/**
 * The WebSocket bridge as a contract world: a real HTTP server on 127.0.0.1 composing the bridge's
 * `handleUpgrade`, and providers on `webSocketProviderChannel` with the `ws` client. There is no
 * `resumeProxy`: the bridge is the server, with no connection of its own to resume.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { mintProviderToken, WebSocketBridge } from '../../bridge/websocket/index.js';
import { webSocketProviderChannel } from '../../bridge/websocket/provider.js';
import type { ChannelHandlers, ToolChannel } from '../../src/index.js';
import type { BridgeWorld } from './world.js';

const ROOM = 'contract';
const PROXY = 'toolproxy';
const credentials = { apiKey: 'contract-key', apiSecret: 'contract-secret-0123456789abcdef' };

export function webSocketWorld(): BridgeWorld {
  let bridge: WebSocketBridge | undefined;
  const server = createServer((_request, response) => response.writeHead(404).end());
  server.on('upgrade', (request, socket, head) => {
    if (bridge?.handleUpgrade(request, socket, head) !== true) socket.destroy();
  });
  const listening = new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  /** Each provider's current client socket, to cut without a close frame. */
  const sockets = new Map<string, WebSocket>();
  const channels: ToolChannel[] = [];

  const join = async (identity: string): Promise<ToolChannel> => {
    const port = await listening;
    const token = await mintProviderToken({ ...credentials, room: ROOM, identity });
    class TrackedWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        sockets.set(identity, this);
      }
    }
    const channel = webSocketProviderChannel({
      url: `ws://127.0.0.1:${port}/bridge`,
      token,
      WebSocket: TrackedWebSocket,
      proxyIdentity: PROXY,
    });
    channels.push(channel);
    return startedWhenConnected(channel);
  };

  return {
    name: 'WebSocket: embedded bridge ↔ ws provider',
    proxyChannel: () => {
      bridge = new WebSocketBridge({ ...credentials, room: ROOM, identity: PROXY });
      return bridge;
    },
    proxyIdentity: () => PROXY,
    providerChannel: join,
    strangerChannel: join,
    maxFrameBytes: 1_048_576,
    dropProvider: async (identity) => {
      // The TCP connection goes without a close frame; the bridge sees the socket close.
      sockets.get(identity)?.terminate();
      await settle();
    },
    settle,
    teardown: async () => {
      for (const channel of channels) await channel.close();
      await bridge?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The provider channel keeps connecting in the background; for the contract, `start` resolves once
 * the proxy is there (so a stranger can send at once), or fails after a bounded wait.
 */
function startedWhenConnected(channel: ToolChannel): ToolChannel {
  return {
    get identity() {
      return channel.identity;
    },
    peers: () => channel.peers(),
    send: (to, text) => channel.send(to, text),
    close: () => channel.close(),
    start: (handlers: ChannelHandlers) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('provider did not connect')), 2_000);
        channel
          .start({
            ...handlers,
            onConnected: (info) => {
              clearTimeout(timer);
              handlers.onConnected(info);
              resolve();
            },
          })
          .catch(reject);
      }),
  };
}

/**
 * Lets loopback traffic arrive: a short stretch of real time, counted on `performance.now()` and
 * turned by `setImmediate`, so it works while a test fakes setTimeout and Date.
 */
async function settle(): Promise<void> {
  const until = performance.now() + 30;
  while (performance.now() < until) await new Promise<void>((resolve) => setImmediate(resolve));
}
