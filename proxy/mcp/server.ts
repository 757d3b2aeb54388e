/**
 * The proxy as an MCP server, on the SDK's low-level `Server`: tools registered by providers arrive
 * as raw JSON Schema, which `McpServer.registerTool` (zod) cannot take. One server per MCP
 * connection; `close()` detaches it from the proxy.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type LoggingLevel,
} from '@modelcontextprotocol/sdk/types.js';
import {
  describeUnknown,
  type Logger,
  silentLogger,
  systemTimers,
  type Timers,
  type ToolProxy,
} from '../../src/index.js';
import { watchToolList } from '../kit/index.js';
import { callTool } from './call-tool.js';
import { toMcpTools } from './tool-list.js';

export interface McpServerOptions {
  /** Server name in the MCP handshake. Default `toolproxy`. */
  name?: string;
  /** Server version in the MCP handshake. Default `DEFAULT_SERVER_VERSION` (the package's). */
  version?: string;
  /** One `notifications/tools/list_changed` per burst of tool changes this long. Default 50 ms. */
  listChangedDebounceMs?: number;
  timers?: Timers;
  logger?: Logger;
  /**
   * The channel of this server's calls when its transport has no session id (stdio): cancelled
   * with `proxy.cancelChannel` when the client goes away. HTTP sessions use `mcp:<Mcp-Session-Id>`.
   */
  channel?: string;
  /** The agent session of every call that names none (a stdio server's `CLAUDE_CODE_SESSION_ID`). */
  sessionKey?: string;
  /**
   * A signal that aborts when the caller of request `requestId` is gone (its HTTP response closed
   * before the result): the call is then cancelled with the signal's reason (`caller-gone`).
   */
  callerGone?: (
    sessionId: string | undefined,
    requestId: string | number,
  ) => AbortSignal | undefined;
}

export interface McpServerHandle {
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- the SDK steers to McpServer, whose zod-only registerTool cannot take raw JSON Schema
  readonly server: Server;
  /** Detaches from the proxy (its listeners and any pending notification go). Idempotent. */
  close(): void;
}

export const DEFAULT_SERVER_NAME = 'toolproxy';
export const DEFAULT_SERVER_VERSION = '0.1.0';
export const DEFAULT_LIST_CHANGED_DEBOUNCE_MS = 50;

/**
 * Creates an MCP server that lists and calls the proxy's tools. Connect it to one transport with
 * `server.connect(transport)`; call `close()` when that connection is over.
 */
export function createMcpServer(proxy: ToolProxy, options: McpServerOptions = {}): McpServerHandle {
  const logger = options.logger ?? silentLogger;
  const debounceMs = options.listChangedDebounceMs ?? DEFAULT_LIST_CHANGED_DEBOUNCE_MS;
  if (!Number.isFinite(debounceMs) || debounceMs < 0) {
    throw new RangeError('listChangedDebounceMs must be a finite number of ms, at least 0');
  }
  const placement = { channel: options.channel, sessionKey: emptyToUndefined(options.sessionKey) };
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- as above: raw JSON Schema tools
  const server = new Server(
    {
      name: options.name ?? DEFAULT_SERVER_NAME,
      version: options.version ?? DEFAULT_SERVER_VERSION,
    },
    // `logging`: the SDK then answers `logging/setLevel` and keeps each session's level.
    { capabilities: { tools: { listChanged: true }, logging: {} } },
  );
  const logIgnored = sdkLevelCheck(server);
  server.onerror = (error) => {
    logger.debug({ error: error.message }, 'MCP protocol error');
  };
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: toMcpTools(proxy.tools()) }));
  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    callTool(
      proxy,
      request,
      {
        ...extra,
        callerGone: options.callerGone?.(extra.sessionId, extra.requestId),
        logIgnored: (level) => logIgnored(level, extra.sessionId),
      },
      logger,
      placement,
    ),
  );
  const close = watchToolList(proxy, {
    debounceMs,
    timers: options.timers ?? systemTimers,
    notify: () => {
      // Only on a live connection whose client has initialized: there is no one else to tell (and
      // the SDK throws "Not connected" without a transport).
      if (server.transport === undefined || server.getClientCapabilities() === undefined) return;
      server.sendToolListChanged().catch((error: unknown) => {
        logger.debug({ error: describeUnknown(error) }, 'MCP tools/list_changed not delivered');
      });
    },
  });
  return { server, close };
}

type LevelCheck = (level: LoggingLevel, sessionId: string | undefined) => boolean;

/**
 * The SDK keeps each session's `logging/setLevel` and checks a message against it with
 * `isMessageIgnored` (what its `sendLoggingMessage` uses), a member its types declare private
 * (1.32). Logs go out with the request's `sendNotification` instead, so that they travel on the
 * request's own stream, and are checked here; an SDK without that member filters nothing.
 */
// eslint-disable-next-line @typescript-eslint/no-deprecated -- the low-level Server, as above
function sdkLevelCheck(server: Server): LevelCheck {
  const check: unknown = Reflect.get(server, 'isMessageIgnored');
  return typeof check === 'function' ? (check as LevelCheck).bind(server) : () => false;
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}
