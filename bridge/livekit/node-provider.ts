/**
 * `toolproxy/livekit/node`: a provider channel over a connected @livekit/rtc-node Room, for Node
 * programs and robots. Pair it with `ToolProvider` from `toolproxy/provider`.
 */
import type { ToolChannel } from '../../src/seam.js';
import { LiveKitChannel, type LiveKitChannelOptions } from './channel.js';
import { rtcRoomPort } from './rtc-port.js';
import type { RtcRoom } from './rtc-room.js';

export type ProviderChannelOptions = Omit<LiveKitChannelOptions, 'role'>;

export function rtcProviderChannel(
  room: RtcRoom,
  options: ProviderChannelOptions = {},
): ToolChannel {
  return new LiveKitChannel(rtcRoomPort(room), { ...options, role: 'provider' });
}
