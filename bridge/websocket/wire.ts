/**
 * What both ends of the WebSocket bridge agree on: defaults, the subprotocols, the close codes
 * with a meaning of their own, and the frame-size check. Browser-safe: no Node built-ins.
 */

export const DEFAULT_PATH = '/bridge';
export const DEFAULT_ROOM = 'toolproxy';
/** The proxy's identity, as providers address it. */
export const DEFAULT_PROXY_IDENTITY = 'toolproxy';
export const DEFAULT_MAX_FRAME_BYTES = 1_048_576;

/** The subprotocol the bridge speaks; offered next to the token so the server can select it. */
export const SUBPROTOCOL = 'toolproxy';
/** A token offered as a subprotocol (browsers cannot set headers on a WebSocket). */
export const BEARER_PREFIX = 'bearer.';

export const CloseCode = {
  /** The provider closed on purpose. */
  normal: 1000,
  /** The proxy is shutting down. */
  goingAway: 1001,
  /** A binary frame: the bridge carries JSON text only. */
  unsupportedData: 1003,
  /** A frame over the maximum. */
  tooLarge: 1009,
  /**
   * Another connection authenticated with the same identity took this one's place. The provider
   * does not reconnect (two live connections would otherwise keep replacing each other).
   */
  replaced: 4000,
} as const;

const encoder = new TextEncoder();

/** The size of `text` in bytes of UTF-8 when it is over `maxBytes`; undefined when it fits. */
export function oversizeBytes(text: string, maxBytes: number): number | undefined {
  // Cheap bound first: a UTF-16 code unit takes at most three bytes of UTF-8.
  if (text.length * 3 <= maxBytes) return undefined;
  const bytes = encoder.encode(text).length;
  return bytes > maxBytes ? bytes : undefined;
}

export function oversizeMessage(bytes: number, maxBytes: number): string {
  return `frame of ${bytes} bytes exceeds the maximum of ${maxBytes} bytes`;
}
