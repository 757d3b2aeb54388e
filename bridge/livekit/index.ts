/**
 * `toolproxy/livekit`: the proxy's seat in a LiveKit room, tokens and provider policies. It loads
 * @livekit/rtc-node only when it joins (see agent.ts), so importing it is cheap and quiet.
 */
export { type LiveKitAgentOptions, LiveKitAgentChannel, type RtcRuntime } from './agent.js';
export {
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_PACKET_LIMIT_BYTES,
  DEFAULT_TOPIC,
  LiveKitChannel,
  type LiveKitChannelOptions,
} from './channel.js';
export { PROVIDER_ATTRIBUTE, type ProviderPolicyOption, providerPolicy } from './policy.js';
export type { ProviderPolicy, RoomPort, RoomPortListeners } from './room-port.js';
export { mintAgentToken, mintProviderToken, type TokenOptions } from './token.js';
