/**
 * One MCP Streamable HTTP session: its transport and MCP server, the timer that closes it when
 * unused, and its `tools/call` requests in flight (each cancelled `caller-gone` if its POST's
 * response closes before the result). The endpoint owns the set of sessions.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import type { Timers, ToolProxy } from '../../src/index.js';
import { CallsInFlight } from './calls-in-flight.js';
import { IdleTimer } from './idle-timer.js';
import { readJsonBody } from './request-body.js';
import { createMcpServer, type McpServerHandle, type McpServerOptions } from './server.js';

/** How a session ended: the `detail` its cancelled calls carry. */
export type SessionEnd = 'deleted' | 'evicted' | 'idle' | 'closing';

export interface SessionEvents {
  /** The client's `initialize` succeeded: the session has its id. */
  initialized(session: McpHttpSession, id: string): void;
  /** No request open for the idle time. */
  idle(session: McpHttpSession): void;
  /** The transport closed (DELETE, `end()`): runs before the SDK aborts the request handlers. */
  closed(session: McpHttpSession): void;
}

export interface SessionSettings {
  readonly server: McpServerOptions;
  readonly idleMs: number;
  readonly timers: Timers;
}

export class McpHttpSession {
  readonly transport: StreamableHTTPServerTransport;
  readonly mcp: McpServerHandle;
  readonly idle: IdleTimer;
  readonly calls = new CallsInFlight((requestId) => {
    this.transport.closeSSEStream(requestId);
  });
  #ending: SessionEnd | undefined;

  constructor(proxy: ToolProxy, settings: SessionSettings, events: SessionEvents) {
    this.mcp = createMcpServer(proxy, {
      ...settings.server,
      callerGone: (_sessionId, requestId) => this.calls.signal(requestId),
    });
    this.transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => events.initialized(this, id),
    });
    this.idle = new IdleTimer(settings.idleMs, () => events.idle(this), settings.timers);
    // Set before connect(): the MCP server chains its own close handling (which aborts the
    // request handlers, as `caller-aborted`) after this one.
    this.transport.onclose = () => events.closed(this);
  }

  get id(): string | undefined {
    return this.transport.sessionId;
  }

  /** Why the session ended (or is ending): what `end()` was given, else the client's DELETE. */
  get endedBy(): SessionEnd {
    return this.#ending ?? 'deleted';
  }

  get ending(): boolean {
    return this.#ending !== undefined;
  }

  connect(): Promise<void> {
    return this.mcp.server.connect(this.transport);
  }

  /**
   * Serves one request of this session. A POST's JSON body is read here (unless `parsedBody` has
   * it), so the `tools/call` requests it carries are followed until its response closes.
   */
  serve(request: IncomingMessage, response: ServerResponse, parsedBody?: unknown): Promise<void> {
    return this.idle.during(response, async () => {
      let body = parsedBody;
      // Any other content type is the transport's to refuse (415) without reading it.
      if (
        body === undefined &&
        request.method === 'POST' &&
        isJsonContentType(request.headers['content-type'])
      ) {
        const read = await readJsonBody(request, response);
        if (!read.ok) return;
        body = read.body;
      }
      if (body !== undefined) this.calls.track(response, body);
      await this.transport.handleRequest(request, response, body);
    });
  }

  /** Closes the transport (its calls cancelled `caller-gone` with `why` as detail). */
  async end(why: SessionEnd): Promise<void> {
    this.#ending ??= why;
    await this.transport.close();
  }
}
