/**
 * What the relay page (page.ts) offers the test, and the events it sends back: one livekit-client
 * room in Chromium with one bridge channel on it, driven from the test process through playwright.
 * Everything crossing here is plain data (playwright serialises it).
 */
import type { PeerInfo } from '../../../src/shared/channel.js';

/** Which bridge channel the page runs: a browser provider's, or the proxy's seat. */
export type Seat = 'provider' | 'agent';

export type RelayEvent =
  | { kind: 'frame'; from: PeerInfo; text: string }
  | { kind: 'joined'; peer: PeerInfo; peers: PeerInfo[] }
  | { kind: 'left'; peer: PeerInfo; peers: PeerInfo[] }
  | { kind: 'connected'; resumed: boolean; peers: PeerInfo[] }
  | { kind: 'closed'; error: string | undefined };

export interface RelayApi {
  /** Joins the room; resolves with this participant's identity and the peers present. */
  join(url: string, token: string, seat: Seat): Promise<{ identity: string; peers: PeerInfo[] }>;
  /** Starts the channel (events flow from here on); resolves with the peers present. */
  start(): Promise<PeerInfo[]>;
  send(to: string, text: string): Promise<void>;
  /** Closes the channel; the room stays. */
  close(): Promise<void>;
  /** Leaves the room gracefully. */
  leave(): Promise<void>;
  /** livekit-client's `room.simulateScenario` (a resumed connection). */
  simulate(scenario: 'signal-reconnect' | 'resume-reconnect'): Promise<void>;
}

/** The name of the binding the test exposes for RelayEvents, and of the page's RelayApi global. */
export const EVENT_BINDING = 'toolproxyRelayEvent';
export const API_GLOBAL = 'toolproxyRelay';
