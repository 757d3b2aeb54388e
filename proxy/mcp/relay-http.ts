/**
 * A relay's session with a toolproxy in another process, over its `/mcp` (Streamable HTTP).
 *
 * The SDK's client transport does not notice a server that dies: a call's event stream that
 * breaks is only reported to `onerror`, and the call waits for its timeout. So every response
 * body is watched here: a refused request, a broken stream, the end of the session's standing
 * event stream (GET) or a 404 for the session all mean the upstream is gone, and `lost` aborts.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { describeUnknown, type Logger, systemTimers, type Timers } from '../../src/index.js';
import { RELAY_CLIENT_INFO, type RelayUpstream } from './relay-upstream.js';

export interface HttpUpstreamOptions {
  /** The toolproxy's base URL, e.g. `http://127.0.0.1:7300` (its MCP endpoint is `/mcp`). */
  url: string;
  /** Sent as `Authorization: Bearer <secret>`. */
  secret?: string;
  logger: Logger;
  timers?: Timers;
  /** The MCP handshake must be done within this. Default 5,000 ms. */
  connectTimeoutMs?: number;
  /** `end()` waits this long for the upstream to confirm the session's end. Default 1,000 ms. */
  endTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_END_TIMEOUT_MS = 1_000;

/** Opens an MCP session with the toolproxy at `options.url`; rejects with a message to act on. */
export async function connectHttpUpstream(options: HttpUpstreamOptions): Promise<RelayUpstream> {
  const { url, logger, timers = systemTimers } = options;
  const name = `the toolproxy at ${url}`;
  const lostController = new AbortController();
  let leaving = false;
  const markLost = (why: string): void => {
    if (leaving || lostController.signal.aborted) return;
    logger.warn({ upstream: url, why }, 'relay: the upstream toolproxy went away');
    lostController.abort(new Error(why));
  };
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', url), {
    fetch: watchedFetch(markLost),
    ...(options.secret === undefined
      ? {}
      : { requestInit: { headers: { Authorization: `Bearer ${options.secret}` } } }),
    // The standing stream is not re-opened by the SDK: its end is how a lost upstream shows.
    reconnectionOptions: {
      maxRetries: 0,
      initialReconnectionDelay: 1_000,
      maxReconnectionDelay: 1_000,
      reconnectionDelayGrowFactor: 1,
    },
  });
  const client = new Client(RELAY_CLIENT_INFO, { capabilities: {} });
  client.onerror = (error) => {
    logger.debug({ upstream: url, error: error.message }, 'relay: upstream MCP error');
  };
  try {
    await client.connect(transport, {
      timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
  } catch (error) {
    leaving = true;
    await client.close();
    throw new Error(connectFailure(name, error), { cause: error });
  }
  // Set after connect(), which installs its own handler first; ours runs after it.
  const onClose = client.onclose;
  client.onclose = () => {
    onClose?.();
    markLost('its MCP session closed');
  };
  const leave = async (): Promise<void> => {
    leaving = true;
    await client.close();
  };
  return {
    name,
    client,
    lost: lostController.signal,
    end: async () => {
      leaving = true;
      // DELETE: the upstream ends the session and cancels its calls. Bounded: a hung upstream
      // must not keep this process alive; closing the client aborts the request.
      let timer: unknown;
      const deadline = new Promise<void>((resolve) => {
        timer = timers.setTimeout(resolve, options.endTimeoutMs ?? DEFAULT_END_TIMEOUT_MS);
      });
      await Promise.race([
        transport.terminateSession().catch((error: unknown) => {
          logger.debug({ upstream: url, error: describeUnknown(error) }, 'relay: DELETE failed');
        }),
        deadline,
      ]);
      timers.clearTimeout(timer);
      await client.close();
    },
    discard: leave,
  };
}

function connectFailure(name: string, error: unknown): string {
  if (error instanceof StreamableHTTPError && error.code === 401) {
    return `${name} refused this relay (401): set TOOLPROXY_HOOK_SECRET to the secret it was started with`;
  }
  return `could not open an MCP session with ${name}: ${describeUnknown(error)}`;
}

/** `fetch`, reporting to `broken` every sign that the upstream is gone (see the file comment). */
function watchedFetch(broken: (why: string) => void): FetchLike {
  return async (url, init) => {
    let response: Response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      if (init?.signal?.aborted !== true) broken(`it did not answer: ${causeOf(error)}`);
      throw error;
    }
    const method = init?.method ?? 'GET';
    const hasSession = new Headers(init?.headers).has('mcp-session-id');
    if (response.status === 404 && hasSession) {
      broken('it no longer knows this MCP session (404)');
      return response;
    }
    const type = response.headers.get('content-type') ?? '';
    if (!response.ok || response.body === null || !type.startsWith('text/event-stream')) {
      return response;
    }
    const body = watchBody(response.body, init?.signal ?? undefined, broken, method === 'GET');
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/**
 * `body`, passed through. A read that fails (the connection broke) is reported, and so is the end
 * of the standing GET stream (`endIsLoss`), which lasts as long as the session; not what our own
 * abort (closing the transport) causes.
 */
function watchBody(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal | undefined,
  broken: (why: string) => void,
  endIsLoss: boolean,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (!done) {
          controller.enqueue(value);
          return;
        }
        if (endIsLoss && signal?.aborted !== true)
          broken('it closed the event stream of the session');
        controller.close();
      } catch (error) {
        if (signal?.aborted !== true) broken(`the connection broke: ${causeOf(error)}`);
        controller.error(error);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** undici's "fetch failed" / "terminated" say little; the cause (ECONNREFUSED, ...) says more. */
function causeOf(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause === undefined ? describeUnknown(error) : describeUnknown(cause);
}
