/**
 * `toolproxy serve`: the proxy, its providers' bridge (LiveKit when configured, else the embedded
 * WebSocket bridge), and one HTTP server for agents (MCP, hooks) and pages.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LiveKitAgentChannel, mintProviderToken } from '../../bridge/livekit/index.js';
import { WebSocketBridge } from '../../bridge/websocket/index.js';
import { silentLogger, ToolProxy } from '../../src/index.js';
import { HookIngress } from '../hooks/index.js';
import { McpHttpEndpoint, serveMcpStdio } from '../mcp/index.js';
import {
  HEALTH_SERVICE,
  isAddressInUse,
  isToolproxyAt,
  portTakenMessage,
} from '../mcp/relay-probe.js';
import { startRelay } from '../mcp/relay-takeover.js';
import { describeProviders, isLoopback, type ServeConfig } from './config.js';
import { connectionSlotLimits, keepConnectionSlots } from './connection-slots.js';
import { hostAndOriginAllowed, route } from './http-routes.js';
import { buildPageAssets } from './page.js';
import {
  DEFAULT_SERVE_TIMEOUTS,
  type RunningServe,
  type ServeIo,
  type ServeOptions,
} from './serve-options.js';

export {
  DEFAULT_SERVE_TIMEOUTS,
  type RunningServe,
  type ServeIo,
  type ServeOptions,
  type ServeTimeouts,
} from './serve-options.js';

/** Connections the kernel queues for accepting: a flood must not crowd a hook's SYN out (1 s retry). */
const LISTEN_BACKLOG = 4_096;

/**
 * The bearer secret `/mcp` and `/hooks/*` ask for. Off loopback anyone on the network could
 * otherwise call every tool (MCP) or stop every call (hooks); on loopback only local processes can
 * reach them, the trust the agent that launched the proxy already has, unless a secret is set.
 */
export function httpSecret(config: ServeConfig): { secret: string; requireSecret: boolean } {
  return {
    secret: config.httpSecret ?? config.keys.apiSecret,
    requireSecret: config.httpSecret !== undefined || !isLoopback(config.host),
  };
}

export async function startServe(
  config: ServeConfig,
  io: ServeIo = {},
  options: ServeOptions = {},
): Promise<RunningServe> {
  const logger = io.logger ?? silentLogger;
  const timeouts = { ...DEFAULT_SERVE_TIMEOUTS, ...options.timeouts };
  if (timeouts.headersMs > timeouts.requestMs)
    throw new RangeError('serve: timeouts.headersMs must not exceed timeouts.requestMs');
  // Checked before anything starts: a wrong limit leaves nothing running.
  const slotLimits = connectionSlotLimits({
    slots: options.maxConnections,
    arrivalRoom: options.arrivalRoom,
    graceMs: timeouts.graceMs,
  });
  const { pingIntervalMs } = timeouts;
  // Embedded, the bridge drops a provider that misses a ping: at most two intervals after it was
  // last heard (the bridge narrows it per call to what is left). LiveKit: the liveness default.
  const staleCallMs = config.livekit === undefined ? 2 * pingIntervalMs : undefined;
  const proxy = new ToolProxy({ logger, staleCallMs });
  const loopback = isLoopback(config.host);
  const { apiKey, apiSecret } = config.keys;
  const providers = config.providers ?? 'attribute';
  const channel =
    config.livekit === undefined
      ? new WebSocketBridge({
          apiKey,
          apiSecret,
          room: config.room,
          logger,
          pingIntervalMs,
          providers,
        })
      : new LiveKitAgentChannel({ ...config.livekit, room: config.room, logger, providers });
  const mode = config.livekit === undefined ? 'embedded' : 'livekit';
  const { secret, requireSecret } = httpSecret(config);
  const mcp = new McpHttpEndpoint(proxy, {
    logger,
    ...(requireSecret ? { secret } : {}),
    maxSessions: config.mcpMaxSessions,
    sessionIdleMs: config.mcpSessionIdleMs,
  });
  const hooks = new HookIngress(proxy, { secret, requireSecret, logger });
  const embedded = channel instanceof WebSocketBridge ? channel : undefined;
  const hostAllowed = (hostname: string) => !loopback || isLoopback(hostname);
  const server = createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: timeouts.checkIntervalMs,
    },
    route({
      mcp,
      hooks,
      health: () => ({
        service: HEALTH_SERVICE,
        status: 'ok',
        mode,
        tools: proxy.tools().length,
        pendingCalls: proxy.pendingCalls,
      }),
      page: embedded === undefined ? undefined : await buildPageAssets(),
      hostAllowed,
      pageToken:
        embedded !== undefined && loopback
          ? (identity) =>
              mintProviderToken({ apiKey, apiSecret, room: config.room, identity, ttl: '1h' })
          : undefined,
    }),
  );
  // In place of `server.maxConnections`, which refuses every newcomer while a flood holds the slots.
  keepConnectionSlots(server, { ...slotLimits, logger });
  server.on('upgrade', (request, socket, head) => {
    // The same Host/Origin guard as every route: a rebound name must not reach the bridge either.
    if (!hostAndOriginAllowed({ hostAllowed }, request)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (embedded === undefined || !embedded.handleUpgrade(request, socket, head)) socket.destroy();
  });
  await listen(server, config.port, config.host, LISTEN_BACKLOG);
  await proxy.start(channel);
  const stdio =
    config.mcp === 'stdio'
      ? await serveMcpStdio(proxy, {
          logger,
          stdin: io.stdin,
          stdout: io.stdout,
          sessionKey: io.sessionKey,
        })
      : undefined;
  const url = baseUrl(config.host, (server.address() as AddressInfo).port);
  io.announce?.(`toolproxy listening on ${url}`);
  logger.info(
    { url, mode, room: config.room, providers: describeProviders(providers) },
    'serve started',
  );
  if (config.keys.generated && mode === 'embedded') {
    logger.info(
      { TOOLPROXY_API_KEY: apiKey, TOOLPROXY_API_SECRET: apiSecret },
      'no signing key set: made a development pair; export these to mint provider tokens with `toolproxy token --identity NAME`',
    );
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    proxy,
    mode,
    ended: stdio?.closed ?? new Promise<void>(() => undefined),
    close: () => (closing ??= shutdown(proxy, mcp, server, stdio)),
  };
}

/** Cancels calls (providers told), closes MCP sessions, the bridge and the HTTP server. */
async function shutdown(
  proxy: ToolProxy,
  mcp: McpHttpEndpoint,
  server: Server,
  stdio: { close(): Promise<void> } | undefined,
): Promise<void> {
  await proxy.close();
  await Promise.allSettled([mcp.close(), stdio?.close()]);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface StdioServe {
  /** `proxy`: this process runs the proxy; `relay`: it forwards to the one already on the port. */
  readonly mode: 'proxy' | 'relay';
  /** The proxy's `http://HOST:PORT`. */
  readonly url: string;
  /** Settles when the stdio MCP client has gone: the process has nothing left to do. */
  readonly ended: Promise<void>;
  close(): Promise<void>;
}

/**
 * `serve --mcp stdio`: the proxy with MCP on stdin/stdout; or, when a toolproxy already listens on
 * the port (another agent launched it), a relay to that one, which takes the port over should it
 * go away. A port held by anything else is an error.
 */
export async function startStdioServe(
  config: ServeConfig,
  io: ServeIo = {},
  options: ServeOptions = {},
): Promise<StdioServe> {
  try {
    const running = await startServe(config, io, options);
    return {
      mode: 'proxy',
      url: running.url,
      ended: running.ended,
      close: () => running.close(),
    };
  } catch (error) {
    if (!isAddressInUse(error)) throw error;
  }
  const url = baseUrl(config.host, config.port);
  if (!(await isToolproxyAt(url))) throw new Error(portTakenMessage(url));
  const relay = await startRelay({
    url,
    secret: config.httpSecret ?? (config.keys.generated ? undefined : config.keys.apiSecret),
    // The relay's own client stays on its stdio: the proxy it may become serves MCP over HTTP.
    startProxy: () => startServe({ ...config, mcp: 'http' }, io, options),
    logger: io.logger ?? silentLogger,
    sessionKey: io.sessionKey,
    stdin: io.stdin,
    stdout: io.stdout,
  });
  io.announce?.(`toolproxy relaying MCP on stdio to the toolproxy at ${url}`);
  return { mode: 'relay', url, ended: relay.ended, close: () => relay.close() };
}

function baseUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function listen(server: Server, port: number, host: string, backlog: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, backlog, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
