/**
 * What the SFU bench runs against: `toolproxy serve` in this process in LiveKit mode (`startServe`
 * from proxy/serve.ts with the settings `serveConfig` reads from LIVEKIT_URL / LIVEKIT_API_KEY /
 * LIVEKIT_API_SECRET, pino at level info writing synchronously to the null device, as the CLI
 * writes to stderr), the MCP SDK's client on its `/mcp`, and a kept-alive hook poster; plus rooms
 * joined here with tokens minted from the same keys.
 */
import { devNull } from 'node:os';
import { Room, RoomEvent } from '@livekit/rtc-node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { pino } from 'pino';
import { mintAgentToken, mintProviderToken } from '../../../bridge/livekit/index.js';
import { type RunningServe, serveConfig, startServe } from '../../../proxy/serve.js';
import { KeepAlivePoster } from '../b4-http.js';
import { within } from './wait.js';

export interface LiveKitServerInfo {
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
}

/** The room `serve` joins; the floor's room is another on the same server. */
export const SERVE_ROOM = 'bench-sfu';
export const FLOOR_ROOM = 'bench-sfu-floor';

export interface SfuWorld {
  readonly server: LiveKitServerInfo;
  readonly serve: RunningServe;
  /** The SDK's real client over Streamable HTTP (one session). */
  readonly mcp: Client;
  /** The MCP client's requests whose answer has not begun (a stream counts until its headers). */
  readonly mcpRequestsOpen: () => number;
  /** Keep-alive POSTs to serve's hook endpoint. */
  readonly hooks: KeepAlivePoster;
  /** A provider's token for `identity` in `room`. */
  providerToken(identity: string, room?: string): Promise<string>;
  /** Joins `room` here (a token of kind agent, or a provider's). */
  join(room: string, identity: string, kind: 'agent' | 'provider'): Promise<Room>;
  /** Disconnects the rooms joined here, then closes serve (which disposes rtc-node: last). */
  close(): Promise<void>;
}

export async function startSfuWorld(server: LiveKitServerInfo): Promise<SfuWorld> {
  const { url, apiKey, apiSecret } = server;
  const env = { LIVEKIT_URL: url, LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret };
  const config = serveConfig({ port: '0', room: SERVE_ROOM }, env);
  const stderr = pino.destination({ dest: devNull, sync: true });
  const logger = pino({ level: 'info', base: { name: 'toolproxy' } }, stderr);
  const serve = await startServe(config, { logger, announce: () => {} });
  if (serve.mode !== 'livekit') throw new Error(`bench: serve started in ${serve.mode} mode`);

  let open = 0;
  const counting: FetchLike = async (input, init) => {
    open++;
    try {
      return await fetch(input, init);
    } finally {
      open--;
    }
  };
  const transport = new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp`), {
    fetch: counting,
  });
  const mcp = new Client({ name: 'bench-sfu-agent', version: '1.0.0' });
  await mcp.connect(transport);
  const hooks = new KeepAlivePoster(Number(new URL(serve.url).port));
  const rooms: Room[] = [];

  const providerToken = (identity: string, room = SERVE_ROOM) =>
    mintProviderToken({ apiKey, apiSecret, room, identity });
  return {
    server,
    serve,
    mcp,
    mcpRequestsOpen: () => open,
    hooks,
    providerToken,
    join: async (room, identity, kind) => {
      const token =
        kind === 'agent'
          ? await mintAgentToken({ apiKey, apiSecret, room, identity })
          : await providerToken(identity, room);
      const joined = new Room();
      await joined.connect(url, token, { autoSubscribe: false, dynacast: false });
      rooms.push(joined);
      return joined;
    },
    close: async () => {
      hooks.close();
      await transport.terminateSession().catch(() => {});
      await mcp.close();
      for (const room of rooms) await room.disconnect().catch(() => {});
      await serve.close();
      stderr.end();
    },
  };
}

/**
 * Resolves once `room` lists every one of `identities`. LiveKit announces participants that
 * publish no track in batches, every 3 s (livekit-server pkg/rtc/room.go), so this can take that.
 */
export async function knows(room: Room, identities: readonly string[]): Promise<void> {
  const all = () => identities.every((identity) => room.remoteParticipants.has(identity));
  if (all()) return;
  let check = () => {};
  const known = new Promise<void>((resolve) => {
    check = () => {
      if (all()) resolve();
    };
  });
  room.on(RoomEvent.ParticipantConnected, check);
  try {
    check();
    await within(known, 15_000, `${identities.join(', ')} in the room`);
  } finally {
    room.off(RoomEvent.ParticipantConnected, check);
  }
}
