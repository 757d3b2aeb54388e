/**
 * `toolproxy serve` in-process on a free loopback port (embedded WebSocket bridge, MCP over
 * Streamable HTTP at /mcp) with a hand-written wire provider attached over the bridge.
 */
import { mintProviderToken } from '../../bridge/websocket/index.js';
import { developmentKeys } from '../../proxy/cli/config.js';
import { type RunningServe, startServe } from '../../proxy/cli/serve.js';
import { silentLogger } from '../../src/index.js';
import { type WireTool, WireProvider } from './wire-provider.js';

export const ROOM = 'toolproxy';

export interface ServedProvider {
  readonly serve: RunningServe;
  /** `http://127.0.0.1:PORT/mcp` */
  readonly mcpUrl: string;
  readonly provider: WireProvider;
  close(): Promise<void>;
}

/** `ws://HOST:PORT/bridge` for a serve at `http://HOST:PORT`. */
export function bridgeUrl(serveUrl: string): string {
  return `${serveUrl.replace(/^http/, 'ws')}/bridge`;
}

export function providerToken(
  keys: { apiKey: string; apiSecret: string },
  identity: string,
): Promise<string> {
  return mintProviderToken({
    apiKey: keys.apiKey,
    apiSecret: keys.apiSecret,
    room: ROOM,
    identity,
  });
}

export async function serveWithProvider(
  tools: readonly WireTool[],
  identity = 'real-peer-provider',
): Promise<ServedProvider> {
  const keys = developmentKeys();
  const serve = await startServe(
    {
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      mcp: 'http',
      room: ROOM,
      keys,
      livekit: undefined,
    },
    { logger: silentLogger, announce: () => {} },
  );
  try {
    const provider = await WireProvider.connect(
      bridgeUrl(serve.url),
      await providerToken(keys, identity),
      tools,
    );
    return {
      serve,
      mcpUrl: `${serve.url}/mcp`,
      provider,
      close: async () => {
        await provider.close();
        await serve.close();
      },
    };
  } catch (error) {
    await serve.close();
    throw error;
  }
}
