/**
 * MCP over Streamable HTTP for the `/mcp` path of a node `http.Server` the caller owns. Stateful:
 * each `initialize` opens a session (its own transport and MCP server, its id in `Mcp-Session-Id`);
 * a session ends when its transport closes (DELETE, `close()`, or idle past `sessionIdleMs`), and
 * then releases its proxy listeners and cancels its calls still running.
 *
 * Anyone who reaches the endpoint can call every tool: bind the server to 127.0.0.1, or set
 * `secret`. A browser page could reach a local server through DNS rebinding, so a server exposed
 * beyond localhost should also check `Host`/`Origin` before calling `handle`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { describeUnknown, type Logger, silentLogger, type ToolProxy } from '../../src/index.js';
import { bearerMatches } from '../bearer.js';
import { IdleTimer } from './idle-timer.js';
import { createMcpServer, type McpServerHandle, type McpServerOptions } from './server.js';

export interface McpHttpEndpointOptions extends Omit<McpServerOptions, 'logger'> {
  logger?: Logger;
  /** Every request must carry `Authorization: Bearer <secret>` (else 401). */
  secret?: string;
  /** Sessions open at once; an `initialize` beyond it is answered 503. Default 64. */
  maxSessions?: number;
  /**
   * A session with no request open and none for this long is closed (its calls cancelled), so
   * clients that vanish without a DELETE do not pile up. Default 30 minutes.
   */
  sessionIdleMs?: number;
}

const DEFAULT_MAX_SESSIONS = 64;
const DEFAULT_SESSION_IDLE_MS = 30 * 60_000;

const MCP_METHODS = new Set(['GET', 'POST', 'DELETE']);

interface Session {
  readonly transport: StreamableHTTPServerTransport;
  readonly mcp: McpServerHandle;
  readonly idle: IdleTimer;
}

export class McpHttpEndpoint {
  readonly #proxy: ToolProxy;
  readonly #options: McpServerOptions;
  readonly #logger: Logger;
  /** Initialized sessions, by id. */
  readonly #sessions = new Map<string, Session>();
  /** Every open transport, initialized or not, so close() reaches them all. */
  readonly #open = new Set<Session>();
  readonly #secret: string | undefined;
  readonly #maxSessions: number;
  readonly #idleMs: number;
  #closed = false;

  constructor(proxy: ToolProxy, options: McpHttpEndpointOptions = {}) {
    const { secret, maxSessions, sessionIdleMs, ...serverOptions } = options;
    if (secret === '') throw new TypeError('McpHttpEndpoint: secret must not be empty');
    this.#proxy = proxy;
    this.#logger = options.logger ?? silentLogger;
    this.#options = { ...serverOptions, logger: this.#logger };
    this.#secret = secret;
    this.#maxSessions = positiveInteger(maxSessions, DEFAULT_MAX_SESSIONS, 'maxSessions');
    this.#idleMs = positiveInteger(sessionIdleMs, DEFAULT_SESSION_IDLE_MS, 'sessionIdleMs');
  }

  /** Sessions open now (initialized and not yet closed). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * Serves one request to the MCP path (POST, GET for the server's stream, DELETE to end a session).
   * `parsedBody` is the JSON body if a middleware already read it; otherwise the transport reads it.
   * Never rejects: failures are answered (500) and logged.
   */
  async handle(
    request: IncomingMessage,
    response: ServerResponse,
    parsedBody?: unknown,
  ): Promise<void> {
    try {
      if (this.#closed) {
        reply(response, 503, -32000, 'Service Unavailable: the MCP endpoint is closed');
        return;
      }
      const sessionId = request.headers['mcp-session-id'];
      if (
        this.#secret !== undefined &&
        !bearerMatches(request.headers.authorization, this.#secret)
      ) {
        response.setHeader('WWW-Authenticate', 'Bearer');
        reply(response, 401, -32000, 'Unauthorized: send Authorization: Bearer <secret>');
      } else if (!MCP_METHODS.has(request.method ?? '')) {
        response.setHeader('Allow', [...MCP_METHODS].join(', '));
        reply(response, 405, -32000, 'Method not allowed');
      } else if (Array.isArray(sessionId)) {
        reply(response, 400, -32000, 'Bad Request: one Mcp-Session-Id header is allowed');
      } else if (sessionId !== undefined) {
        const session = this.#sessions.get(sessionId);
        if (session === undefined) reply(response, 404, -32001, 'Session not found');
        else
          await session.idle.during(response, () =>
            session.transport.handleRequest(request, response, parsedBody),
          );
      } else if (request.method === 'POST' && this.#open.size >= this.#maxSessions) {
        reply(
          response,
          503,
          -32000,
          `Service Unavailable: ${this.#maxSessions} MCP sessions are open; end one (DELETE) first`,
        );
      } else if (request.method === 'POST') {
        await this.#start(request, response, parsedBody);
      } else {
        reply(response, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      }
    } catch (error) {
      this.#logger.error({ error: describeUnknown(error) }, 'MCP HTTP request failed');
      if (!response.headersSent) reply(response, 500, -32603, 'Internal server error');
      else if (!response.writableEnded) response.end();
    }
  }

  /** Closes every session (their running calls are cancelled); later requests get 503. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#open].map((session) => this.#closeSession(session)));
  }

  /**
   * A POST without a session id: a new session if it is an `initialize`. The transport decides (and
   * answers 400 otherwise, reading the body itself within its size limit); a transport that did not
   * initialize is closed at once.
   */
  async #start(
    request: IncomingMessage,
    response: ServerResponse,
    parsedBody: unknown,
  ): Promise<void> {
    const mcp = createMcpServer(this.#proxy, this.#options);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.#sessions.set(id, session);
      },
    });
    const idle = new IdleTimer(this.#idleMs, () => {
      this.#logger.info({ sessionId: transport.sessionId }, 'MCP session idle: closed');
      void this.#closeSession(session);
    });
    const session: Session = { transport, mcp, idle };
    // Set before connect(): the server chains its own close handling after this one.
    transport.onclose = () => {
      this.#release(session);
    };
    this.#open.add(session);
    try {
      await mcp.server.connect(transport);
      await idle.during(response, () => transport.handleRequest(request, response, parsedBody));
    } finally {
      // Not an initialize (answered 400), failed, or the endpoint closed meanwhile: nothing to keep.
      if (transport.sessionId === undefined || this.#closed) await this.#closeSession(session);
    }
  }

  async #closeSession(session: Session): Promise<void> {
    try {
      await session.transport.close();
    } catch (error) {
      this.#logger.warn({ error: describeUnknown(error) }, 'MCP session did not close cleanly');
      this.#release(session);
    }
  }

  #release(session: Session): void {
    if (!this.#open.delete(session)) return;
    session.idle.stop();
    const id = session.transport.sessionId;
    if (id !== undefined && this.#sessions.get(id) === session) {
      this.#sessions.delete(id);
      this.#logger.debug({ sessionId: id }, 'MCP session closed');
    }
    session.mcp.close();
  }
}

/** A JSON-RPC error outside any request, as the SDK's own transport answers. */
function reply(response: ServerResponse, status: number, code: number, message: string): void {
  response
    .writeHead(status, { 'Content-Type': 'application/json' })
    .end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`McpHttpEndpoint: ${what} must be a positive integer, not ${value}`);
  }
  return value;
}
