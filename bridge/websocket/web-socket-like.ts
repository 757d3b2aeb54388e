/**
 * The part of a WebSocket the provider channel uses, so the browser's and the `ws` package's both
 * fit. Browser-safe: types and a global lookup only.
 */

/** An event handler property, compared bivariantly so both the DOM's and ws's sockets fit. */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of a WebSocket the channel uses: the browser's, or the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ readonly data: unknown }> | null;
  onerror: Handler<unknown> | null;
  onclose: Handler<{ readonly code: number; readonly reason: string }> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: protocol-level events (a browser's socket hides pings from scripts). */
  on?(event: 'ping', listener: () => void): unknown;
  /** `ws` only: drops the connection without a close handshake. */
  terminate?(): void;
}

export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => WebSocketLike;

/** `readyState` of an open socket (the same in the DOM and in `ws`). */
export const OPEN = 1;

export function globalWebSocket(): WebSocketConstructor | undefined {
  return 'WebSocket' in globalThis ? globalThis.WebSocket : undefined;
}
