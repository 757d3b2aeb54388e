/**
 * `toolproxy/websocket`: the embedded WebSocket bridge, for deployments without a LiveKit server.
 * The proxy composes `WebSocketBridge.handleUpgrade` into its own HTTP server; providers connect
 * with `webSocketProviderChannel` (`toolproxy/websocket/provider`) and a LiveKit access token
 * minted with the same key and secret (`mintProviderToken`).
 */
export { WebSocketBridge, type WebSocketBridgeOptions } from './bridge.js';
export type { OriginPolicy } from './auth.js';
export {
  CloseCode,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_PATH,
  DEFAULT_PROXY_IDENTITY,
  DEFAULT_ROOM,
} from './wire.js';
export { mintProviderToken, type TokenOptions } from '../livekit/token.js';
