/**
 * The `tools/call` requests of one MCP HTTP session whose POST is still open, each with an
 * AbortController that fires when that POST's response closes before it was finished: the client
 * died or dropped the connection. The SDK's v1 transport does not abort a handler then, and this
 * server keeps no event store, so a result written later could never reach anyone: the call is
 * cancelled at once (`caller-gone`) instead of running on to its deadline.
 */
import type { ServerResponse } from 'node:http';
import { MAX_BATCH_SIZE } from '@modelcontextprotocol/sdk/server/requestBody.js';
import { CancelReason, ErrorCode, ToolProxyError } from '../../src/index.js';

type RequestId = string | number;

interface Entry {
  readonly controller: AbortController;
  readonly post: Post;
  /** Counted in `size` until the response closes or the client cancels the request. */
  busy: boolean;
}

interface Post {
  readonly entries: Entry[];
  /** It carries no request but these `tools/call`s, so its stream serves nothing else. */
  readonly callsOnly: boolean;
}

/** The abort reason a call gets when its caller is gone; `detail` says how. */
export function callerGoneError(detail: string): ToolProxyError {
  return new ToolProxyError(
    ErrorCode.Cancelled,
    `The MCP client went away before the result (${detail}); nothing can deliver it.`,
    { reason: CancelReason.CallerGone, detail },
  );
}

export class CallsInFlight {
  readonly #byId = new Map<RequestId, Entry>();
  readonly #closeStream: (requestId: RequestId) => void;
  #busy = 0;

  /**
   * `closeStream` ends the response stream of a request (the transport's `closeSSEStream`): the
   * SDK answers nothing to a request the client cancelled, so its POST would stay open for good.
   */
  constructor(closeStream: (requestId: RequestId) => void) {
    this.#closeStream = closeStream;
  }

  /**
   * `tools/call` requests in flight: their POST is open and the client has not cancelled them.
   * A session with none is idle enough to evict.
   */
  get size(): number {
    return this.#busy;
  }

  /** Controllers held now (each is freed when its POST's response closes): for leak checks. */
  get tracked(): number {
    return this.#byId.size;
  }

  /** The signal for a call of this session, if its POST is tracked. */
  signal(requestId: RequestId): AbortSignal | undefined {
    return this.#byId.get(requestId)?.controller.signal;
  }

  /**
   * Follows the `tools/call` requests in one POST's parsed `body` until `response` closes, and
   * ends the streams of requests the body cancels (`notifications/cancelled`).
   */
  track(response: ServerResponse, body: unknown): void {
    const messages = Array.isArray(body) ? body : [body];
    // The SDK refuses a longer batch whole; nothing in it will run.
    if (messages.length > MAX_BATCH_SIZE) return;
    const ids = messages.map(toolCallId).filter((id) => id !== undefined);
    if (ids.length > 0 && !response.destroyed && !response.writableEnded) {
      const post: Post = {
        entries: [],
        callsOnly: ids.length === messages.filter(isRequest).length,
      };
      const tracked = ids.map((id): [RequestId, Entry] => {
        const entry = { controller: new AbortController(), post, busy: true };
        post.entries.push(entry);
        // A client reusing an in-flight id gets the newer POST's; the older one keeps its own.
        this.#byId.set(id, entry);
        this.#busy++;
        return [id, entry];
      });
      response.once('close', () => this.#closed(response, tracked));
    }
    for (const message of messages) this.#cancelled(cancelledId(message));
  }

  #closed(response: ServerResponse, tracked: ReadonlyArray<[RequestId, Entry]>): void {
    const gone = response.writableFinished ? undefined : callerGoneError('disconnected');
    for (const [id, entry] of tracked) {
      if (this.#byId.get(id) === entry) this.#byId.delete(id);
      this.#settle(entry);
      if (gone !== undefined) entry.controller.abort(gone);
    }
  }

  #cancelled(requestId: RequestId | undefined): void {
    const entry = requestId === undefined ? undefined : this.#byId.get(requestId);
    if (entry === undefined || !entry.busy) return;
    // The SDK aborts the handler itself (`caller-aborted`) and never answers it.
    this.#settle(entry);
    const { post } = entry;
    if (post.callsOnly && post.entries.every((other) => !other.busy) && requestId !== undefined)
      this.#closeStream(requestId);
  }

  #settle(entry: Entry): void {
    if (!entry.busy) return;
    entry.busy = false;
    this.#busy--;
  }
}

function toolCallId(message: unknown): RequestId | undefined {
  if (!isRecord(message) || message.method !== 'tools/call') return undefined;
  return isRequestId(message.id) ? message.id : undefined;
}

function cancelledId(message: unknown): RequestId | undefined {
  if (!isRecord(message) || message.method !== 'notifications/cancelled') return undefined;
  const params = message.params;
  return isRecord(params) && isRequestId(params.requestId) ? params.requestId : undefined;
}

function isRequest(message: unknown): boolean {
  return isRecord(message) && typeof message.method === 'string' && isRequestId(message.id);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}
