/**
 * Where a relay forwards its stdio client's requests: an MCP `Client` session with a toolproxy,
 * either one running in another process (relay-http.ts) or, after this process took the port
 * over, the proxy it now runs itself (in memory, below).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Logger, ToolProxy } from '../../src/index.js';
import { createMcpServer, DEFAULT_SERVER_VERSION } from './server.js';
import { STDIO_CHANNEL } from './stdio.js';

export interface RelayUpstream {
  /** Who answers, for messages: e.g. `the toolproxy at http://127.0.0.1:7300`. */
  readonly name: string;
  readonly client: Client;
  /**
   * Aborts, with an Error saying why, when the upstream went away: calls in flight are then
   * abandoned and the relay looks for another upstream.
   */
  readonly lost: AbortSignal;
  /** The relay's client went away: ends this session, so the upstream cancels its calls. */
  end(detail: string): Promise<void>;
  /** Drops the session of a lost upstream (nothing left to tell). */
  discard(): Promise<void>;
}

/** The relay's name in the MCP handshake with its upstream. */
export const RELAY_CLIENT_INFO = { name: 'toolproxy-relay', version: DEFAULT_SERVER_VERSION };

export interface LocalUpstreamOptions {
  logger: Logger;
  /** Default `the toolproxy in this process`. */
  name?: string;
}

/**
 * A session with `proxy` in this process, its calls tagged with the stdio channel: once this
 * process has become the proxy, the relay's client is its stdio client.
 */
export async function connectLocalUpstream(
  proxy: ToolProxy,
  options: LocalUpstreamOptions,
): Promise<RelayUpstream> {
  const { logger } = options;
  const mcp = createMcpServer(proxy, { channel: STDIO_CHANNEL, logger });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client(RELAY_CLIENT_INFO, { capabilities: {} });
  // Never aborted: this proxy goes away only with the process.
  const lost = new AbortController().signal;
  try {
    await mcp.server.connect(serverSide);
    await client.connect(clientSide);
  } catch (error) {
    mcp.close();
    await client.close();
    throw error;
  }
  const drop = async (): Promise<void> => {
    await client.close();
    mcp.close();
  };
  return {
    name: options.name ?? 'the toolproxy in this process',
    client,
    lost,
    end: async (detail) => {
      // Before the session closes: closing it would cancel the calls as `caller-aborted`.
      proxy.cancelChannel(STDIO_CHANNEL, 'caller-gone', detail);
      await drop();
    },
    discard: drop,
  };
}
