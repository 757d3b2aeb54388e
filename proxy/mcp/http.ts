/**
 * MCP over Streamable HTTP for the `/mcp` path of a node `http.Server` the caller owns. Stateful:
 * each `initialize` opens a session (its own transport and MCP server, its id in `Mcp-Session-Id`);
 * a session ends on DELETE, when idle past `sessionIdleMs`, when evicted to make room for a new
 * one, or on `close()`, and then releases its proxy listeners and cancels its calls still running
 * (`caller-gone`). A `tools/call` whose POST's response closes before its result is cancelled
 * `caller-gone` at once: no event store, so a later result could never be delivered.
 *
 * Real clients never send DELETE (the SDK's `close()` only aborts, Claude Code exits without it),
 * so at the session cap a new `initialize` evicts the least recently used idle session instead of
 * being refused; only when every session has a call in flight is it answered 503.
 *
 * Anyone who reaches the endpoint can call every tool: bind the server to 127.0.0.1, or set
 * `secret`. A browser page could reach a local server through DNS rebinding, so a server exposed
 * beyond localhost should also check `Host`/`Origin` before calling `handle`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_BATCH_SIZE } from '@modelcontextprotocol/sdk/server/requestBody.js';
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import {
  CancelReason,
  describeUnknown,
  type Logger,
  silentLogger,
  systemTimers,
  type ToolProxy,
} from '../../src/index.js';
import { positiveInteger } from '../../src/seam.js';
import { bearerMatches } from '../bearer.js';
import { mcpSessionChannel } from './call-placement.js';
import { replyError } from './http-reply.js';
import { McpHttpSession, type SessionEvents, type SessionSettings } from './http-session.js';
import { readJsonBody } from './request-body.js';
import type { McpServerOptions } from './server.js';

export interface McpHttpEndpointOptions extends Omit<McpServerOptions, 'logger' | 'callerGone'> {
  logger?: Logger;
  /** Every request must carry `Authorization: Bearer <secret>` (else 401). */
  secret?: string;
  /**
   * Sessions open at once. At the cap an `initialize` evicts the least recently used session with
   * no `tools/call` in flight; when every session has one, it is answered 503. Default 64.
   */
  maxSessions?: number;
  /**
   * A session with no request open for this long is closed, so clients that vanish without a
   * DELETE do not hold memory. Default 10 minutes. `timers` (default the system's) drives it.
   */
  sessionIdleMs?: number;
}

export const DEFAULT_MAX_SESSIONS = 64;
/**
 * 10 minutes. A live client holds its GET event stream open, which keeps its session from idling
 * at all; a session with nothing open for 10 minutes belongs to a client that died or a
 * short-lived run (`claude -p`, an Inspector call) that has long finished. Closing one that was
 * merely quiet costs its client a 404, after which MCP requires it to initialize again: cheap.
 * Since eviction keeps the cap from locking anyone out, this only bounds memory, so it need not be
 * tight.
 */
export const DEFAULT_SESSION_IDLE_MS = 10 * 60_000;
/** Node's setTimeout fires at once for anything longer (about 24.8 days). */
export const MAX_SESSION_IDLE_MS = 2_147_483_647;

const MCP_METHODS = new Set(['GET', 'POST', 'DELETE']);

export class McpHttpEndpoint {
  readonly #proxy: ToolProxy;
  readonly #logger: Logger;
  readonly #settings: SessionSettings;
  /** Initialized sessions, by id, in the order they opened. */
  readonly #sessions = new Map<string, McpHttpSession>();
  /** Every open transport, initialized or not, so close() reaches them all. */
  readonly #open = new Set<McpHttpSession>();
  readonly #events: SessionEvents;
  readonly #secret: string | undefined;
  readonly #maxSessions: number;
  #closed = false;

  constructor(proxy: ToolProxy, options: McpHttpEndpointOptions = {}) {
    const { secret, maxSessions, sessionIdleMs, ...serverOptions } = options;
    if (secret === '') throw new TypeError('McpHttpEndpoint: secret must not be empty');
    this.#proxy = proxy;
    this.#logger = options.logger ?? silentLogger;
    this.#secret = secret;
    this.#maxSessions = positiveInteger(
      maxSessions,
      DEFAULT_MAX_SESSIONS,
      'McpHttpEndpoint: maxSessions',
    );
    const idleMs = positiveInteger(
      sessionIdleMs,
      DEFAULT_SESSION_IDLE_MS,
      'McpHttpEndpoint: sessionIdleMs',
    );
    if (idleMs > MAX_SESSION_IDLE_MS) {
      throw new RangeError(`McpHttpEndpoint: sessionIdleMs must be at most ${MAX_SESSION_IDLE_MS}`);
    }
    this.#settings = {
      server: { ...serverOptions, logger: this.#logger },
      idleMs,
      timers: options.timers ?? systemTimers,
    };
    this.#events = {
      initialized: (session, id) => this.#sessions.set(id, session),
      idle: (session) => {
        this.#logger.info(
          { sessionId: session.id, idleMs: session.idle.idleMs },
          'MCP session idle: closed',
        );
        void this.#end(session, 'idle');
      },
      closed: (session) => this.#release(session),
    };
  }

  /** Sessions open now (initialized and not yet closed). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** `tools/call` requests followed now, over all sessions (each freed when its POST closes). */
  get trackedCalls(): number {
    let tracked = 0;
    for (const session of this.#open) tracked += session.calls.tracked;
    return tracked;
  }

  /**
   * Serves one request to the MCP path (POST, GET for the server's stream, DELETE to end a session).
   * `parsedBody` is the JSON body if a middleware already read it; otherwise it is read here.
   * Never rejects: failures are answered (500) and logged.
   */
  async handle(
    request: IncomingMessage,
    response: ServerResponse,
    parsedBody?: unknown,
  ): Promise<void> {
    try {
      if (this.#closed) {
        replyError(response, 503, -32000, 'Service Unavailable: the MCP endpoint is closed');
        return;
      }
      const sessionId = request.headers['mcp-session-id'];
      if (
        this.#secret !== undefined &&
        !bearerMatches(request.headers.authorization, this.#secret)
      ) {
        response.setHeader('WWW-Authenticate', 'Bearer');
        replyError(response, 401, -32000, 'Unauthorized: send Authorization: Bearer <secret>');
      } else if (!MCP_METHODS.has(request.method ?? '')) {
        response.setHeader('Allow', [...MCP_METHODS].join(', '));
        replyError(response, 405, -32000, 'Method not allowed');
      } else if (Array.isArray(sessionId)) {
        replyError(response, 400, -32000, 'Bad Request: one Mcp-Session-Id header is allowed');
      } else if (sessionId !== undefined) {
        const session = this.#sessions.get(sessionId);
        if (session === undefined) replyError(response, 404, -32001, 'Session not found');
        else await session.serve(request, response, parsedBody);
      } else if (request.method === 'POST') {
        await this.#start(request, response, parsedBody);
      } else {
        replyError(response, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      }
    } catch (error) {
      this.#logger.error({ error: describeUnknown(error) }, 'MCP HTTP request failed');
      replyError(response, 500, -32603, 'Internal server error');
    }
  }

  /** Closes every session (their running calls are cancelled); later requests get 503. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#open].map((session) => this.#end(session, 'closing')));
  }

  /** A POST without a session id: a new session if it carries an `initialize`, else 400. */
  async #start(
    request: IncomingMessage,
    response: ServerResponse,
    parsedBody: unknown,
  ): Promise<void> {
    let body = parsedBody;
    if (body === undefined) {
      if (!isJsonContentType(request.headers['content-type'])) {
        const message = 'Unsupported Media Type: Content-Type must be application/json';
        replyError(response, 415, -32000, message);
        return;
      }
      const read = await readJsonBody(request, response);
      if (!read.ok) return;
      body = read.body;
    }
    if (!carriesInitialize(body)) {
      const message = 'Bad Request: Mcp-Session-Id header is required (only initialize opens one)';
      replyError(response, 400, -32000, message);
      return;
    }
    if (!(await this.#makeRoom())) {
      const message = `Service Unavailable: all ${this.#maxSessions} MCP sessions have a tool call in flight; retry when one finishes`;
      replyError(response, 503, -32000, message);
      return;
    }
    const session = new McpHttpSession(this.#proxy, this.#settings, this.#events);
    this.#open.add(session);
    try {
      await session.connect();
      await session.serve(request, response, body);
    } finally {
      // Not initialized (the transport refused it), failed, or the endpoint closed meanwhile.
      if (session.id === undefined || this.#closed) await this.#end(session, 'closing');
    }
  }

  /** Below the cap, evicting idle sessions least recently used first; false if none can go. */
  async #makeRoom(): Promise<boolean> {
    while (this.#open.size >= this.#maxSessions) {
      const victim = this.#evictable();
      if (victim === undefined) return false;
      this.#logger.info(
        { sessionId: victim.id, idleMs: victim.idle.idleMs, maxSessions: this.#maxSessions },
        'MCP session evicted: the least recently used idle one, to make room for a new session',
      );
      await this.#end(victim, 'evicted');
    }
    return true;
  }

  /** The least recently used session with no call in flight; the oldest of equals. */
  #evictable(): McpHttpSession | undefined {
    let victim: McpHttpSession | undefined;
    for (const session of this.#sessions.values()) {
      if (session.ending || session.calls.size > 0) continue;
      if (victim === undefined || session.idle.lastActiveAt < victim.idle.lastActiveAt)
        victim = session;
    }
    return victim;
  }

  async #end(session: McpHttpSession, why: Parameters<McpHttpSession['end']>[0]): Promise<void> {
    try {
      await session.end(why);
    } catch (error) {
      this.#logger.warn({ error: describeUnknown(error) }, 'MCP session did not close cleanly');
      this.#release(session);
    }
  }

  /**
   * The transport closed. Runs before the MCP server's own close handling aborts the request
   * handlers (which would cancel as `caller-aborted`): the session's calls are cancelled here
   * first, `caller-gone`, with how the session ended as detail.
   */
  #release(session: McpHttpSession): void {
    if (!this.#open.delete(session)) return;
    session.idle.stop();
    const id = session.id;
    if (id !== undefined) {
      if (this.#sessions.get(id) === session) this.#sessions.delete(id);
      const by = session.endedBy;
      const cancelled = this.#proxy.cancelChannel(
        mcpSessionChannel(id),
        CancelReason.CallerGone,
        by,
      );
      this.#logger.debug({ sessionId: id, by, cancelled }, 'MCP session closed');
    }
    session.mcp.close();
  }
}

/** Whether a POST body carries an `initialize` (as the SDK's transport decides it). */
function carriesInitialize(body: unknown): boolean {
  if (!Array.isArray(body)) return isInitializeRequest(body);
  return body.length <= MAX_BATCH_SIZE && body.some((message) => isInitializeRequest(message));
}
