/**
 * `toolproxy/livekit/browser`: a provider channel over a connected livekit-client Room, for browser
 * pages. Browser-safe: it pulls in livekit-client and the core, no Node built-ins and no rtc-node.
 */
import type { ToolChannel } from '../../src/seam.js';
import { LiveKitChannel, type LiveKitChannelOptions } from './channel.js';
import { clientRoomPort } from './client-port.js';
import type { ClientRoom } from './client-room.js';

export type ProviderChannelOptions = Omit<LiveKitChannelOptions, 'role'>;

export function browserProviderChannel(
  room: ClientRoom,
  options: ProviderChannelOptions = {},
): ToolChannel {
  return new LiveKitChannel(clientRoomPort(room), { ...options, role: 'provider' });
}
