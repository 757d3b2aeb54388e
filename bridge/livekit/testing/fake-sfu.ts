/**
 * An in-process stand-in for a LiveKit server (an SFU), for tests that cannot reach a real one.
 *
 * Rooms are created on demand by name. A participant joins with a real JWT minted by
 * livekit-server-sdk's `AccessToken` and checked with its `TokenVerifier`; identity, name,
 * metadata, attributes and kind come from the token's claims. `FakeRtcRoom` (the
 * `@livekit/rtc-node` flavour) and `FakeClientRoom` (the `livekit-client` flavour) connect through
 * it, and may share one room.
 *
 * Everything the server sends to a participant (joins, leaves, packets, stream parts, reconnect
 * and disconnect notices) is delivered asynchronously, a microtask later, in the order it was sent;
 * never inside the call that caused it. Microtasks are not faked by `vi.useFakeTimers()`, so
 * delivery needs no timer advancing. `settle()` waits until nothing is in flight.
 */
import { TokenVerifier } from 'livekit-server-sdk';
import {
  DEFAULT_MAX_PACKET_BYTES,
  PacketTooLargeError,
  type FakeDisconnectReason,
  type FakeJoin,
  type FakeParticipantInfo,
  type FakeServerLink,
  type FakeSignalSink,
} from './fake-protocol.js';
import { connectionRefused, ListenAddresses } from './fake-sfu-addresses.js';
import { DeliveryQueue } from './fake-sfu-delivery.js';
import { newMember, targets, type Member } from './fake-sfu-members.js';
import { joinClaims, joinToken, verifyToken, type FakeTokenOptions } from './fake-sfu-tokens.js';

export interface FakeLiveKitServerOptions {
  /** Default 'devkey', like `livekit-server --dev`. */
  apiKey?: string;
  /** Default 'secret', like `livekit-server --dev`. */
  apiSecret?: string;
  /** The URL clients connect to (ws:// or wss://). Default 'ws://fake-livekit.test'. */
  url?: string;
  /** Largest `publishData` payload accepted, in bytes. Default 15 KiB. */
  maxPacketBytes?: number;
  /** How long a connect to an unknown URL takes to fail, in ms (setTimeout). Default 90. */
  connectFailureDelayMs?: number;
  /**
   * Deliver a joiner's first packets to the others before its join, as the real server can (joins
   * travel on the signalling WebSocket, data over SCTP, unordered): the others' rooms then see
   * those packets without a participant. The join follows the joiner's first packet to each member,
   * or a few microtasks after joining if it sends none. Default false: joins first.
   */
  dataBeforeJoin?: boolean;
}

/**
 * How long the real server takes to remove a participant whose process died: ICE disconnected
 * (10 s), failed (5 s), cleanup (5 s). A graceful leave is immediate.
 */
export const CRASH_NOTICED_AFTER_MS = 20_000;

/** With `dataBeforeJoin`, how many microtasks a silent joiner's join waits for. */
const SILENT_JOIN_HOPS = 50;

export class FakeLiveKitServer {
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly url: string;
  readonly maxPacketBytes: number;
  readonly connectFailureDelayMs: number;
  readonly dataBeforeJoin: boolean;
  readonly #urls = new ListenAddresses();
  readonly #verifier: TokenVerifier;
  readonly #rooms = new Map<string, Map<string, Member>>();
  readonly #delivery = new DeliveryQueue();
  #largest = 0;
  #sids = 0;

  constructor(options: FakeLiveKitServerOptions = {}) {
    this.apiKey = options.apiKey ?? 'devkey';
    this.apiSecret = options.apiSecret ?? 'secret';
    this.url = options.url ?? 'ws://fake-livekit.test';
    this.maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
    this.connectFailureDelayMs = options.connectFailureDelayMs ?? 90;
    this.dataBeforeJoin = options.dataBeforeJoin ?? false;
    this.#verifier = new TokenVerifier(this.apiKey, this.apiSecret);
    this.listenOn(this.url);
  }

  /** Also accept connections on this ws:// or wss:// URL. */
  listenOn(url: string): void {
    this.#urls.add(url);
  }

  /** The largest `publishData` payload seen so far, in bytes (rejected ones included). */
  get largestPacketBytes(): number {
    return this.#largest;
  }

  /** A join token for this server, signed with its key and secret. */
  async createToken(options: FakeTokenOptions): Promise<string> {
    return joinToken(this.apiKey, this.apiSecret, options).toJwt();
  }

  /** Participants now in `room`, in join order. */
  participants(room: string): FakeParticipantInfo[] {
    return [...(this.#rooms.get(room)?.values() ?? [])].map((m) => m.info);
  }

  /** Like `RoomServiceClient.removeParticipant`: Disconnected(PARTICIPANT_REMOVED) for it. */
  removeParticipant(room: string, identity: string): void {
    this.#kick(this.#member(room, identity), room, 'PARTICIPANT_REMOVED');
  }

  /** Like `RoomServiceClient.sendData`: receivers see no sender participant. Reliable by default. */
  sendData(
    room: string,
    payload: Uint8Array,
    options: { topic?: string; destinationIdentities?: string[]; reliable?: boolean } = {},
  ): void {
    const members = this.#rooms.get(room);
    if (members === undefined) throw new Error(`no room "${room}"`);
    const { topic, destinationIdentities = [], reliable = true } = options;
    const event = { type: 'data', from: undefined, payload, reliable, topic } as const;
    for (const m of targets(members, destinationIdentities)) this.#delivery.post(m, event, 'data');
  }

  /** The participant's connection drops: Reconnecting, and its packets (both ways) are lost. */
  interrupt(room: string, identity: string): void {
    const member = this.#member(room, identity);
    if (member.interrupted) return;
    member.interrupted = true;
    this.#delivery.post(member, { type: 'reconnecting' }, 'control');
  }

  /**
   * Ends `interrupt`: Reconnected, then the membership changes it missed. With `carriesData:
   * false`, as rtc-node sometimes resumes on the real server, packets stay lost both ways.
   */
  resume(room: string, identity: string, { carriesData = true } = {}): void {
    const member = this.#member(room, identity);
    if (!member.interrupted) return;
    member.interrupted = false;
    member.silent = !carriesData;
    this.#delivery.post(member, { type: 'reconnected' }, 'control');
    for (const event of member.held.splice(0)) this.#delivery.post(member, event, 'control');
  }

  /**
   * The participant's process is killed (SIGKILL): from now on nothing it sent arrives and nothing
   * reaches it; the others see it leave only after `afterMs` (setTimeout), as on the real server.
   */
  crash(room: string, identity: string, afterMs = CRASH_NOTICED_AFTER_MS): void {
    const member = this.#member(room, identity);
    member.crashed = true;
    setTimeout(() => {
      const members = this.#rooms.get(room);
      if (members?.get(identity) === member) this.#remove(room, members, member, 'UNKNOWN_REASON');
      member.active = false;
    }, afterMs);
  }

  /** Like `RoomServiceClient.deleteRoom`: everyone gets Disconnected(ROOM_DELETED). */
  closeRoom(room: string): void {
    const members = this.#rooms.get(room);
    if (members === undefined) return;
    this.#rooms.delete(room);
    const everyone = [...members.values()];
    members.clear(); // nothing routes between them any more
    for (const m of everyone)
      this.#delivery.post(m, { type: 'disconnected', reason: 'ROOM_DELETED' }, 'control');
  }

  /** Resolves once no delivery or send step has been pending for a few microtasks. */
  settle(): Promise<void> {
    return this.#delivery.settle();
  }

  /**
   * Runs `step` a microtask later, counted by `settle()`. The fake rooms pace their sends with it.
   * @internal
   */
  defer(step: () => void): void {
    this.#delivery.defer(step);
  }

  /**
   * Verifies the token and joins its room. Used by the fake rooms' `connect`.
   * @internal
   */
  async join(url: string, token: string, sink: FakeSignalSink): Promise<FakeJoin> {
    if (!this.#urls.accepts(url)) {
      await new Promise((resolve) => setTimeout(resolve, this.connectFailureDelayMs));
      throw connectionRefused(url);
    }
    const claims = await verifyToken(this.#verifier, url, token);
    const { room, participant } = joinClaims(url, claims);
    const { identity } = participant;
    const info: FakeParticipantInfo = { sid: `PA_fake${String(++this.#sids)}`, ...participant };
    const previous = this.#rooms.get(room)?.get(identity);
    if (previous !== undefined) this.#kick(previous, room, 'DUPLICATE_IDENTITY');
    let members = this.#rooms.get(room);
    if (members === undefined) this.#rooms.set(room, (members = new Map<string, Member>()));
    const others = [...members.values()].map((m) => m.info);
    const self = newMember(info, sink, this.dataBeforeJoin ? members.values() : []);
    if (this.dataBeforeJoin) this.#delivery.deferHops(SILENT_JOIN_HOPS, () => this.#announce(self));
    else for (const m of members.values()) this.#announceTo(self, m);
    members.set(identity, self);
    return { room, link: this.#link(room, members, self), local: info, others };
  }

  #link(room: string, members: Map<string, Member>, self: Member): FakeServerLink {
    const routable = () =>
      members.get(self.info.identity) === self &&
      !self.interrupted &&
      !self.crashed &&
      !self.silent;
    return {
      publishData: (payload, { reliable, destinationIdentities, topic }) => {
        this.#largest = Math.max(this.#largest, payload.byteLength);
        if (payload.byteLength > this.maxPacketBytes)
          throw new PacketTooLargeError(payload.byteLength, this.maxPacketBytes);
        if (!routable()) return;
        const event = { type: 'data', from: self.info.identity, payload, reliable, topic } as const;
        for (const m of targets(members, destinationIdentities, self)) {
          this.#delivery.post(m, event, 'data');
          if (self.unannounced.has(m)) this.#announceTo(self, m);
        }
      },
      sendStreamPart: (part, destinationIdentities) => {
        if (!routable()) return;
        for (const m of targets(members, destinationIdentities, self)) {
          this.#delivery.post(m, part, 'data');
          if (self.unannounced.has(m)) this.#announceTo(self, m);
        }
      },
      leave: () => {
        self.active = false;
        if (members.get(self.info.identity) !== self) return;
        this.#remove(room, members, self, 'CLIENT_INITIATED');
      },
    };
  }

  /** Tells every member not yet told that `joiner` joined (if it is still in the room). */
  #announce(joiner: Member): void {
    for (const m of [...joiner.unannounced]) this.#announceTo(joiner, m);
  }

  #announceTo(joiner: Member, member: Member): void {
    joiner.unannounced.delete(member);
    const event = { type: 'participant-joined', participant: joiner.info } as const;
    this.#delivery.post(member, event, 'membership');
  }

  #member(room: string, identity: string): Member {
    const member = this.#rooms.get(room)?.get(identity);
    if (member === undefined) throw new Error(`no participant "${identity}" in room "${room}"`);
    return member;
  }

  #kick(member: Member, room: string, reason: FakeDisconnectReason): void {
    const members = this.#rooms.get(room);
    if (members !== undefined) this.#remove(room, members, member, reason);
    this.#delivery.post(member, { type: 'disconnected', reason }, 'control');
  }

  #remove(
    room: string,
    members: Map<string, Member>,
    member: Member,
    reason: FakeDisconnectReason,
  ): void {
    members.delete(member.info.identity);
    this.#announce(member); // signalling is ordered: nobody hears of a leave before the join
    if (members.size === 0 && this.#rooms.get(room) === members) this.#rooms.delete(room);
    const event = { type: 'participant-left', participant: member.info, reason } as const;
    for (const m of members.values()) this.#delivery.post(m, event, 'membership');
  }
}
