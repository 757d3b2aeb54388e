/**
 * A tool provider that speaks the wire protocol (PROTOCOL.md) by hand over the embedded WebSocket
 * bridge: it registers its tools, answers each `agent:tool-call` with one `client:tool-result`
 * (a `result`, MCP `content` blocks or an `error`), sends `client:tool-progress` and
 * `client:tool-log` when a tool asks, and stops a call's work when the proxy cancels it or times it
 * out. The real-peer tests put it behind `toolproxy serve`, so what the MCP clients see went
 * through the whole proxy.
 */
import { WebSocket } from 'ws';

export type JsonObject = Record<string, unknown>;

/** One tool's answer: what goes into its `client:tool-result` besides `call_id`. */
export interface ToolAnswer {
  result?: unknown;
  content?: readonly JsonObject[];
  error?: string | { message: string; code?: string; data?: unknown };
}

export interface ToolRun {
  readonly callId: string;
  readonly arguments: JsonObject;
  /** Aborted when the proxy cancels the call or times it out. */
  readonly signal: AbortSignal;
  progress(progress: number, total?: number, message?: string): void;
  /** Sends a `client:tool-log` (`level`: one of MCP's eight, `debug` to `emergency`). */
  log(level: string, data: unknown, logger?: string): void;
}

export interface WireTool {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: JsonObject;
  run(call: ToolRun): ToolAnswer | Promise<ToolAnswer>;
}

export interface ReceivedCall {
  readonly callId: string;
  readonly name: string;
  readonly arguments: JsonObject;
}

export class WireProvider {
  /** Every `agent:tool-call` received, in order. */
  readonly calls: ReceivedCall[] = [];
  /** Call ids the proxy cancelled or timed out. */
  readonly stopped: string[] = [];
  readonly #socket: WebSocket;
  readonly #tools: Map<string, WireTool>;
  readonly #running = new Map<string, AbortController>();

  private constructor(socket: WebSocket, tools: readonly WireTool[]) {
    this.#socket = socket;
    this.#tools = new Map(tools.map((tool) => [tool.name, tool]));
  }

  /**
   * Connects to `bridgeUrl` (`ws://HOST:PORT/bridge`) with `token` and registers `tools`; resolves
   * once the proxy has accepted every one of them, rejects with the proxy's reason otherwise.
   */
  static async connect(
    bridgeUrl: string,
    token: string,
    tools: readonly WireTool[],
  ): Promise<WireProvider> {
    const socket = new WebSocket(`${bridgeUrl}?token=${encodeURIComponent(token)}`, ['toolproxy']);
    const provider = new WireProvider(socket, tools);
    const pending = new Set(tools.map((tool) => tool.name));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`bridge refused the provider: HTTP ${response.statusCode}`)),
      );
      socket.once('close', (code, reason) =>
        reject(new Error(`bridge closed before registration: ${code} ${reason.toString()}`)),
      );
      socket.on('message', (data: Buffer) => {
        const frame = provider.#onFrame(data.toString());
        if (frame?.type !== 'agent:tool-registered') return;
        if (frame.success !== true) {
          reject(new Error(`"${String(frame.name)}" refused: ${String(frame.detail)}`));
          return;
        }
        pending.delete(String(frame.name));
        if (pending.size === 0) resolve();
      });
      socket.once('open', () => {
        for (const tool of tools) {
          provider.#send({
            type: 'client:tool-register',
            name: tool.name,
            description: tool.description,
            input_schema: tool.inputSchema,
          });
        }
      });
    });
    socket.removeAllListeners('error');
    socket.removeAllListeners('close');
    socket.on('error', () => {}); // a failed send ends the call on the proxy's side (provider-gone)
    return provider;
  }

  /** Closes the socket; resolves when it is closed. */
  close(): Promise<void> {
    for (const controller of this.#running.values()) controller.abort();
    if (this.#socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.close(1000);
    });
  }

  /** Handles one frame from the proxy; returns it parsed (undefined when it is not an object). */
  #onFrame(text: string): JsonObject | undefined {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return undefined;
    const object = frame as JsonObject;
    const callId = typeof object.call_id === 'string' ? object.call_id : undefined;
    if (callId === undefined) return object;
    if (object.type === 'agent:tool-call') this.#startCall(callId, object);
    if (object.type === 'agent:tool-call-cancelled' || object.type === 'agent:tool-call-timeout') {
      this.stopped.push(callId);
      this.#running.get(callId)?.abort();
    }
    return object;
  }

  #startCall(callId: string, frame: JsonObject): void {
    const name = String(frame.name);
    const args = (frame.arguments ?? {}) as JsonObject;
    this.calls.push({ callId, name, arguments: args });
    const tool = this.#tools.get(name);
    const controller = new AbortController();
    this.#running.set(callId, controller);
    const run: ToolRun = {
      callId,
      arguments: args,
      signal: controller.signal,
      progress: (progress, total, message) =>
        this.#send({
          type: 'client:tool-progress',
          call_id: callId,
          progress,
          ...(total === undefined ? {} : { total }),
          ...(message === undefined ? {} : { message }),
        }),
      log: (level, data, logger) =>
        this.#send({
          type: 'client:tool-log',
          call_id: callId,
          level,
          data,
          ...(logger === undefined ? {} : { logger }),
        }),
    };
    const answer = async (): Promise<ToolAnswer> =>
      tool === undefined ? { error: `no tool "${name}" here` } : tool.run(run);
    void answer()
      .catch((error: unknown) => ({
        error: error instanceof Error ? error.message : String(error),
      }))
      .then((outcome) => {
        this.#running.delete(callId);
        // A stopped call gets no answer: the proxy wants nothing more for it.
        if (!controller.signal.aborted)
          this.#send({ type: 'client:tool-result', call_id: callId, ...outcome });
      });
  }

  #send(frame: JsonObject): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(frame));
  }
}

/** Resolves after `ms`, or rejects at once when `signal` aborts (a tool's work being stopped). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('stopped'));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
