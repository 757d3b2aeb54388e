/**
 * The relay page, bundled by relay.ts and run in Chromium: one livekit-client Room, and on it the
 * bridge's browser provider channel or the proxy's seat (LiveKitChannel with the default provider
 * policy, over clientRoomPort). The test drives it through the RelayApi global and hears its
 * channel's events through the binding it exposes.
 */
import { Room } from 'livekit-client';
import { browserProviderChannel } from '../../../bridge/livekit/browser.js';
import { LiveKitChannel } from '../../../bridge/livekit/channel.js';
import { clientRoomPort } from '../../../bridge/livekit/client-port.js';
import { providerPolicy } from '../../../bridge/livekit/policy.js';
import type { PeerInfo, ToolChannel } from '../../../src/shared/channel.js';
import { API_GLOBAL, EVENT_BINDING, type RelayApi, type RelayEvent } from './relay-api.js';

const globals = window as unknown as Record<string, unknown>;
let room: Room | undefined;
let channel: ToolChannel | undefined;

function emit(event: RelayEvent): void {
  const binding = globals[EVENT_BINDING] as (event: RelayEvent) => Promise<void>;
  void binding(event);
}

const peers = (): PeerInfo[] => [...(channel?.peers() ?? [])];

function joined(): { room: Room; channel: ToolChannel } {
  if (room === undefined || channel === undefined) throw new Error('relay page: join first');
  return { room, channel };
}

const api: RelayApi = {
  async join(url, token, seat) {
    const joining = new Room();
    await joining.connect(url, token, { autoSubscribe: false });
    room = joining;
    channel =
      seat === 'provider'
        ? browserProviderChannel(joining)
        : new LiveKitChannel(clientRoomPort(joining, providerPolicy()), { role: 'agent' });
    return { identity: joining.localParticipant.identity, peers: peers() };
  },
  async start() {
    await joined().channel.start({
      onFrame: (from, text) => emit({ kind: 'frame', from, text }),
      onPeerJoined: (peer) => emit({ kind: 'joined', peer, peers: peers() }),
      onPeerLeft: (peer) => emit({ kind: 'left', peer, peers: peers() }),
      onConnected: (info) =>
        emit({ kind: 'connected', resumed: info?.resumed === true, peers: peers() }),
      onClosed: (error) => emit({ kind: 'closed', error: error?.message }),
    });
    return peers();
  },
  send: (to, text) => Promise.resolve(joined().channel.send(to, text)),
  close: () => joined().channel.close(),
  leave: () => joined().room.disconnect(),
  simulate: (scenario) => joined().room.simulateScenario(scenario),
};

globals[API_GLOBAL] = api;
