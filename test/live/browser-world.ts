/**
 * The LiveKit bridge as contract worlds on the real server with a browser in the room: Debian's
 * Chromium runs livekit-client and the bridge's browser side (test/live/browser/page.ts), and the
 * test reaches that channel through a relay (test/live/browser/relay.ts). Either seat can be the
 * browser: a provider page (browserProviderChannel) with the proxy on rtc-node, or the proxy's seat
 * on livekit-client (LiveKitChannel over clientRoomPort) with providers on rtc-node. One room per
 * test; joiners are awaited until the proxy lists them, and settle() counts frames as real-world.ts does.
 */
import { Room, RoomEvent, SimulateScenarioKind } from '@livekit/rtc-node';
import type { Browser } from 'playwright-core';
import { RoomServiceClient } from 'livekit-server-sdk';
import { mintAgentToken, mintProviderToken } from '../../bridge/livekit/index.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../../bridge/livekit/channel.js';
import { rtcProviderChannel } from '../../bridge/livekit/node-provider.js';
import type { ToolChannel } from '../../src/index.js';
import type { BridgeWorld } from '../contract/world.js';
import { FrameLedger } from './frame-ledger.js';
import { RelaySeat } from './browser/relay.js';
import { type LiveKitCredentials, rtcProxySeat } from './real-world.js';

const AGENT = 'toolproxy-agent';

export type Sdk = 'rtc-node' | 'livekit-client';

export interface BrowserWorldOptions {
  server: LiveKitCredentials;
  /** The launched browser and the relay page's origin (made in the test file's beforeAll). */
  chromium: () => { browser: Browser; origin: string };
  /** The SDK under the proxy's seat, and under the providers'. One of them is livekit-client. */
  agent: Sdk;
  providers: Sdk;
}

let worlds = 0;

export function browserLiveKitWorld(options: BrowserWorldOptions): () => BridgeWorld {
  return () => {
    const { url, apiKey, apiSecret } = options.server;
    const room = `browser-contract-${++worlds}-${Date.now().toString(36)}`;
    const ledger = new FrameLedger();
    const seats: RelaySeat[] = [];
    const rooms: Room[] = [];
    const service = new RoomServiceClient(url.replace(/^ws/, 'http'), apiKey, apiSecret);
    let agentRoom: Room | undefined;
    let agentSeat: RelaySeat | undefined;

    const openSeat = async (token: string, seat: 'agent' | 'provider') => {
      const { browser, origin } = options.chromium();
      const page = await RelaySeat.open(browser, origin);
      seats.push(page);
      await page.join(url, token, seat);
      return page;
    };

    /** Joins and data are not ordered on the SFU: a joiner counts once the proxy's room lists it. */
    const seenByProxy = (identity: string) =>
      new Promise<void>((resolve) => {
        const browserProxy = agentSeat;
        if (browserProxy !== undefined) {
          const check = (peers: readonly { identity: string }[]) => {
            if (!peers.some((peer) => peer.identity === identity)) return;
            stop();
            resolve();
          };
          const stop = browserProxy.watchPeers(check);
          check(browserProxy.peers());
          return;
        }
        const proxyRoom = agentRoom;
        if (proxyRoom === undefined || proxyRoom.remoteParticipants.has(identity)) return resolve();
        const joined = (participant: { identity: string }) => {
          if (participant.identity !== identity) return;
          proxyRoom.off(RoomEvent.ParticipantConnected, joined);
          resolve();
        };
        proxyRoom.on(RoomEvent.ParticipantConnected, joined);
      });

    const joinAsProvider = async (identity: string): Promise<ToolChannel> => {
      const token = await mintProviderToken({ apiKey, apiSecret, room, identity });
      let channel: ToolChannel;
      if (options.providers === 'livekit-client') {
        channel = (await openSeat(token, 'provider')).channel();
      } else {
        const participant = new Room();
        await participant.connect(url, token, { autoSubscribe: false, dynacast: false });
        rooms.push(participant);
        channel = rtcProviderChannel(participant);
      }
      await seenByProxy(identity);
      return ledger.tap(channel);
    };

    /** The proxy's seat in a page: it joins when the proxy starts it. */
    const browserProxyChannel = (): ToolChannel => {
      let inner: ToolChannel | undefined;
      const joined = () => {
        if (inner === undefined) throw new Error('the proxy has not joined');
        return inner;
      };
      return {
        identity: AGENT,
        start: async (handlers) => {
          const token = await mintAgentToken({ apiKey, apiSecret, room, identity: AGENT });
          agentSeat = await openSeat(token, 'agent');
          inner = agentSeat.channel();
          await inner.start(handlers);
        },
        peers: () => inner?.peers() ?? [],
        send: (to, text) => joined().send(to, text),
        close: () => inner?.close() ?? Promise.resolve(),
      };
    };

    const rtcProxyChannel = (): ToolChannel =>
      rtcProxySeat(options.server, room, (made) => (agentRoom = made));

    return {
      name: `LiveKit (real server): ${options.agent} agent ↔ ${options.providers} provider`,
      proxyChannel: () =>
        ledger.tap(options.agent === 'rtc-node' ? rtcProxyChannel() : browserProxyChannel()),
      proxyIdentity: () => AGENT,
      providerChannel: joinAsProvider,
      strangerChannel: joinAsProvider,
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      dropProvider: async (identity) => {
        await service.removeParticipant(room, identity);
      },
      resumeProxy: async () => {
        if (agentSeat !== undefined) return agentSeat.simulate('signal-reconnect');
        if (agentRoom === undefined) throw new Error('the proxy has not joined');
        await agentRoom.simulateScenario(SimulateScenarioKind.SIMULATE_SIGNAL_RECONNECT);
      },
      settle: () => ledger.settled(),
      teardown: async () => {
        for (const seat of seats) await seat.dispose();
        for (const participant of rooms) await participant.disconnect().catch(() => {});
        await service.deleteRoom(room).catch(() => {});
      },
    };
  };
}
