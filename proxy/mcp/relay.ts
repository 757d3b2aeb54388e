/**
 * A relay: MCP on stdin/stdout, served by a process that found a toolproxy already running on its
 * port, forwarding to that proxy's `/mcp` instead of starting a second proxy. So any number of
 * agents on one machine can launch `toolproxy serve --mcp stdio`: the first is the proxy, the
 * others attach to it.
 *
 * If the upstream goes away, the calls in flight answer as `isError` results, and `reattach` is
 * asked for another upstream (this process taking the port over, or whoever did); the stdio
 * client keeps its session throughout and is told to list the tools again. When the stdio client
 * goes, the upstream session is ended (so the upstream cancels its calls).
 */
import type { Readable, Writable } from 'node:stream';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  ListToolsResultSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { describeUnknown, type Logger, silentLogger } from '../../src/index.js';
import {
  errorResult,
  forwardCall,
  RELAY_CALL_LIMITS,
  type RelayCallLimits,
  RpcError,
} from './relay-call.js';
import type { RelayUpstream } from './relay-upstream.js';
import { DEFAULT_SERVER_NAME, DEFAULT_SERVER_VERSION } from './server.js';
import { type McpStdioSession, serveOnStdio } from './stdio.js';

export interface McpRelayOptions {
  /** The session to forward to, already open. */
  upstream: RelayUpstream;
  /**
   * Another upstream once the current one is lost (or none could be had); rejects, with a
   * message to act on, when there is none. Called again by the next request after a failure.
   */
  reattach: () => Promise<RelayUpstream>;
  /** Put in a call's `_meta["toolproxy/sessionKey"]` when the request has none. */
  sessionKey?: string;
  /** Default `process.stdin`. */
  stdin?: Readable;
  /** Default `process.stdout`. */
  stdout?: Writable;
  logger?: Logger;
  /** Default `RELAY_CALL_LIMITS`. */
  callLimits?: RelayCallLimits;
}

/** Serves a relay on stdin/stdout until `close()` or its client goes away. */
export async function serveMcpRelay(options: McpRelayOptions): Promise<McpStdioSession> {
  const relay = new Relay(options);
  const session = await serveOnStdio(relay.server, {
    stdin: options.stdin,
    stdout: options.stdout,
    // Awaited before the stdio server closes (which would cancel each call on its own).
    clientGone: (detail) => relay.end(detail),
    released: () => undefined,
  });
  return {
    close: async () => {
      await relay.end('the toolproxy relay is shutting down');
      await session.close();
    },
    closed: session.closed.then(() => relay.end('the MCP stdio session closed')),
  };
}

class Relay {
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- raw JSON Schema tools, as in server.ts
  readonly server: Server;
  readonly #options: McpRelayOptions;
  readonly #logger: Logger;
  #current: RelayUpstream | undefined;
  #reattaching: Promise<RelayUpstream | undefined> | undefined;
  /** Why there is no upstream, after a reattach failed. */
  #problem = '';
  #ending: Promise<void> | undefined;

  constructor(options: McpRelayOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- as above
    this.server = new Server(
      { name: DEFAULT_SERVER_NAME, version: DEFAULT_SERVER_VERSION },
      { capabilities: { tools: { listChanged: true } } },
    );
    this.server.onerror = (error) => {
      this.#logger.debug({ error: error.message }, 'relay: MCP protocol error');
    };
    this.server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
      const upstream = await this.#upstream();
      if (upstream === undefined) throw new RpcError(ErrorCode.InternalError, this.#noUpstream());
      try {
        return await upstream.client.request(request, ListToolsResultSchema, {
          signal: extra.signal,
        });
      } catch (error) {
        if (!upstream.lost.aborted) throw error;
        throw new RpcError(
          ErrorCode.InternalError,
          `${upstream.name} went away (${describeUnknown(upstream.lost.reason)}); list the tools again.`,
        );
      }
    });
    this.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const upstream = await this.#upstream();
      if (upstream === undefined) return errorResult(this.#noUpstream());
      const context = {
        upstream,
        sessionKey: options.sessionKey,
        limits: options.callLimits ?? RELAY_CALL_LIMITS,
        logger: this.#logger,
      };
      return forwardCall(context, request, extra);
    });
    this.#adopt(options.upstream);
  }

  /** Ends the upstream session (once); later upstreams found by a reattach are ended too. */
  end(detail: string): Promise<void> {
    this.#ending ??= (async () => {
      const upstream = this.#current;
      this.#current = undefined;
      await upstream?.end(detail);
    })();
    return this.#ending;
  }

  async #upstream(): Promise<RelayUpstream | undefined> {
    const current = this.#current;
    if (current !== undefined && !current.lost.aborted) return current;
    return this.#reattach();
  }

  #reattach(): Promise<RelayUpstream | undefined> {
    if (this.#ending !== undefined) return Promise.resolve(undefined);
    this.#reattaching ??= this.#options
      .reattach()
      .then(
        (upstream) => {
          if (this.#ending !== undefined) {
            void upstream.end('the MCP client went away');
            return undefined;
          }
          this.#adopt(upstream);
          this.#logger.info({ upstream: upstream.name }, 'relay: forwarding again');
          this.#toolListChanged(); // another proxy, other tools
          return upstream;
        },
        (error: unknown) => {
          this.#problem = describeUnknown(error);
          this.#logger.warn({ error: this.#problem }, 'relay: no toolproxy to forward to');
          return undefined;
        },
      )
      .finally(() => {
        this.#reattaching = undefined;
      });
    return this.#reattaching;
  }

  #adopt(upstream: RelayUpstream): void {
    this.#current = upstream;
    upstream.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      if (this.#current === upstream) this.#toolListChanged();
    });
    upstream.lost.addEventListener(
      'abort',
      () => {
        if (this.#current !== upstream) return;
        this.#current = undefined;
        void upstream.discard();
        void this.#reattach();
      },
      { once: true },
    );
  }

  #toolListChanged(): void {
    // Only to a client that has initialized (the SDK throws "Not connected" without a transport).
    if (this.server.transport === undefined || this.server.getClientCapabilities() === undefined)
      return;
    this.server.sendToolListChanged().catch((error: unknown) => {
      this.#logger.debug({ error: describeUnknown(error) }, 'relay: tools/list_changed not sent');
    });
  }

  #noUpstream(): string {
    return (
      `No toolproxy is reachable for this MCP server to forward to (${this.#problem || 'it went away'}). ` +
      'Start `toolproxy serve` again (or restart this MCP server), then retry.'
    );
  }
}
