/**
 * The agent side's HTTP for B4, with Node's own `http.request`: JSON POSTs over one kept-alive
 * connection (a hook, or a floor's stop), and an MCP `tools/call` POST on a connection of its own
 * that the caller can drop mid-call.
 */
import { Agent, type ClientRequest, request } from 'node:http';

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** POSTs JSON to one host over a single kept-alive connection, as a hook client that reuses it. */
export class KeepAlivePoster {
  readonly #port: number;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(port: number) {
    this.#port = port;
  }

  /** Sends at once (`end` writes the request); resolves with the whole answer. */
  post(path: string, body: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const outgoing = request(
        {
          agent: this.#agent,
          host: '127.0.0.1',
          port: this.#port,
          method: 'POST',
          path,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          response.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** An MCP `tools/call` POST in flight on its own connection. */
export interface DroppableCall {
  /** Destroys the connection: the caller is gone. */
  drop(): void;
  /** Resolves when the answer's headers are in (the server streams the result, SSE). */
  readonly answering: Promise<void>;
  /** Settles when the connection has closed (after `drop`, or if the server ends it). */
  readonly closed: Promise<void>;
  /** The first bytes of the answer, if any came (the server should send none after a drop). */
  answered(): string;
}

/**
 * Posts a JSON-RPC `tools/call` to `/mcp` in an MCP session, the way the SDK's client does
 * (JSON body, SSE accepted), on a fresh connection that no other request shares.
 */
export function droppableToolCall(
  port: number,
  session: { readonly sessionId: string; readonly protocolVersion: string },
  id: number,
  params: { name: string; arguments: Record<string, unknown> },
): DroppableCall {
  const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params });
  let answer = '';
  const outgoing: ClientRequest = request({
    agent: false,
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/mcp',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': session.sessionId,
      'mcp-protocol-version': session.protocolVersion,
      'content-length': Buffer.byteLength(body),
    },
  });
  const answering = new Promise<void>((resolve) => {
    outgoing.on('response', (response) => {
      response.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
      response.on('error', () => {}); // the drop aborts it
      resolve();
    });
  });
  outgoing.on('error', () => {}); // "socket hang up" after the drop
  const closed = new Promise<void>((resolve) => outgoing.once('close', () => resolve()));
  outgoing.end(body);
  return {
    drop: () => outgoing.destroy(),
    answering,
    closed,
    answered: () => answer,
  };
}
