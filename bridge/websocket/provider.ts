/**
 * `toolproxy/websocket/provider`: a provider's channel to the proxy's WebSocket bridge.
 * Browser-safe: the core and the WebSocket it is given, no Node built-ins and no `ws`.
 */
export {
  type WebSocketConstructor,
  type WebSocketLike,
  webSocketProviderChannel,
  type WebSocketProviderOptions,
} from './provider-channel.js';
export { CloseCode, DEFAULT_PROXY_IDENTITY } from './wire.js';
