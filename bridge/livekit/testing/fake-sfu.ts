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
import { AccessToken, TokenVerifier } from 'livekit-server-sdk';
import type { VideoGrant } from 'livekit-server-sdk';
import {
  DEFAULT_MAX_PACKET_BYTES,
  FakeConnectError,
  PacketTooLargeError,
  type FakeDisconnectReason,
  type FakeJoin,
  type FakeParticipantInfo,
  type FakeServerEvent,
  type FakeServerLink,
  type FakeSignalSink,
} from './fake-protocol.js';

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

export interface FakeTokenOptions {
  identity: string;
  room: string;
  name?: string;
  metadata?: string;
  attributes?: Record<string, string>;
  /** The participant kind claim, e.g. 'agent'. */
  kind?: string;
  /** Token lifetime: seconds or a zeit/ms string. Default '6h'. */
  ttl?: number | string;
  /** Overrides of the default grant `{ roomJoin: true, room, canPublish, canSubscribe, canPublishData }`. */
  grant?: Partial<VideoGrant>;
}

type Delivery = 'data' | 'membership' | 'control';

interface Member {
  readonly info: FakeParticipantInfo;
  readonly sink: FakeSignalSink;
  /** False once nothing more may be delivered. */
  active: boolean;
  interrupted: boolean;
  /** Membership updates held back while interrupted, delivered after Reconnected. */
  held: FakeServerEvent[];
  /** With `dataBeforeJoin`: members not yet told this one joined. */
  unannounced: Set<Member>;
  /** Its process died: nothing from or to it; the others hear of it when ICE gives up. */
  crashed: boolean;
  /** Resumed without data (see `resume`): signalling works, packets are lost both ways. */
  silent: boolean;
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
  readonly #urls = new Set<string>();
  readonly #verifier: TokenVerifier;
  readonly #rooms = new Map<string, Map<string, Member>>();
  #largest = 0;
  #inFlight = 0;
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
    const key = urlKey(url);
    if (key === undefined) throw new Error(`not a ws:// or wss:// URL: ${url}`);
    this.#urls.add(key);
  }

  /** The largest `publishData` payload seen so far, in bytes (rejected ones included). */
  get largestPacketBytes(): number {
    return this.#largest;
  }

  /** A join token for this server, signed with its key and secret. */
  async createToken(options: FakeTokenOptions): Promise<string> {
    const { identity, room, grant, kind, ...rest } = options;
    const token = new AccessToken(this.apiKey, this.apiSecret, { identity, ...rest });
    token.addGrant({ roomJoin: true, room, canPublish: true, canSubscribe: true, ...grant });
    if (kind !== undefined) token.kind = kind;
    return token.toJwt();
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
    for (const m of targets(members, destinationIdentities)) this.#post(m, event, 'data');
  }

  /** The participant's connection drops: Reconnecting, and its packets (both ways) are lost. */
  interrupt(room: string, identity: string): void {
    const member = this.#member(room, identity);
    if (member.interrupted) return;
    member.interrupted = true;
    this.#post(member, { type: 'reconnecting' }, 'control');
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
    this.#post(member, { type: 'reconnected' }, 'control');
    for (const event of member.held.splice(0)) this.#post(member, event, 'control');
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
      this.#post(m, { type: 'disconnected', reason: 'ROOM_DELETED' }, 'control');
  }

  /** Resolves once no delivery or send step has been pending for a few microtasks. */
  async settle(): Promise<void> {
    for (let idle = 0, spins = 0; idle < 5; spins++) {
      if (spins > 100_000) throw new Error('FakeLiveKitServer.settle(): traffic never stops');
      await Promise.resolve();
      idle = this.#inFlight === 0 ? idle + 1 : 0;
    }
  }

  /**
   * Runs `step` a microtask later, counted by `settle()`. The fake rooms pace their sends with it.
   * @internal
   */
  defer(step: () => void): void {
    this.#inFlight++;
    void Promise.resolve().then(() => {
      this.#inFlight--;
      step();
    });
  }

  /**
   * Verifies the token and joins its room. Used by the fake rooms' `connect`.
   * @internal
   */
  async join(url: string, token: string, sink: FakeSignalSink): Promise<FakeJoin> {
    const key = urlKey(url);
    if (key === undefined || !this.#urls.has(key)) {
      await new Promise((resolve) => setTimeout(resolve, this.connectFailureDelayMs));
      throw new FakeConnectError(
        'unreachable',
        `failed to connect to ${url}: engine: signal failure: transport connection error: IO error: Connection refused (os error 111)`,
      );
    }
    const claims = await this.#verifier.verify(token).catch((e: unknown) => {
      throw new FakeConnectError('unauthorized', `${url}: 401 Unauthorized: ${String(e)}`);
    });
    const room = claims.video?.room;
    const identity = claims.sub;
    if (claims.video?.roomJoin !== true || room === undefined || room === '' || !identity)
      throw new FakeConnectError('unauthorized', `${url}: 401 Unauthorized: no roomJoin grant`);
    const info: FakeParticipantInfo = {
      sid: `PA_fake${String(++this.#sids)}`,
      identity,
      name: claims.name ?? '',
      metadata: claims.metadata ?? '',
      attributes: { ...claims.attributes },
      kind: claims.kind ?? '',
    };
    const previous = this.#rooms.get(room)?.get(identity);
    if (previous !== undefined) this.#kick(previous, room, 'DUPLICATE_IDENTITY');
    let members = this.#rooms.get(room);
    if (members === undefined) this.#rooms.set(room, (members = new Map<string, Member>()));
    const others = [...members.values()].map((m) => m.info);
    const self: Member = {
      info,
      sink,
      active: true,
      interrupted: false,
      held: [],
      unannounced: new Set(this.dataBeforeJoin ? members.values() : []),
      crashed: false,
      silent: false,
    };
    if (this.dataBeforeJoin) this.#deferHops(SILENT_JOIN_HOPS, () => this.#announce(self));
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
          this.#post(m, event, 'data');
          if (self.unannounced.has(m)) this.#announceTo(self, m);
        }
      },
      sendStreamPart: (part, destinationIdentities) => {
        if (!routable()) return;
        for (const m of targets(members, destinationIdentities, self)) {
          this.#post(m, part, 'data');
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
    this.#post(member, { type: 'participant-joined', participant: joiner.info }, 'membership');
  }

  /** Runs `step` after `hops` deferred microtasks (each counted by `settle()`). */
  #deferHops(hops: number, step: () => void): void {
    this.defer(() => (hops <= 1 ? step() : this.#deferHops(hops - 1, step)));
  }

  #member(room: string, identity: string): Member {
    const member = this.#rooms.get(room)?.get(identity);
    if (member === undefined) throw new Error(`no participant "${identity}" in room "${room}"`);
    return member;
  }

  #kick(member: Member, room: string, reason: FakeDisconnectReason): void {
    const members = this.#rooms.get(room);
    if (members !== undefined) this.#remove(room, members, member, reason);
    this.#post(member, { type: 'disconnected', reason }, 'control');
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
    for (const m of members.values()) this.#post(m, event, 'membership');
  }

  /** Queues `event` for `member`; data is lost while it is interrupted, membership is held. */
  #post(member: Member, event: FakeServerEvent, kind: Delivery): void {
    if (member.crashed) return;
    if (kind === 'data' && (member.interrupted || member.silent)) return;
    this.defer(() => {
      if (!member.active) return;
      if (member.interrupted && kind !== 'control') {
        if (kind === 'membership') member.held.push(event);
        return;
      }
      if (event.type === 'disconnected') member.active = false;
      member.sink.receive(event);
    });
  }
}

/** Room members a packet goes to: the listed identities, or everyone; never the sender. */
function targets(
  members: ReadonlyMap<string, Member>,
  destinationIdentities: readonly string[],
  sender?: Member,
): Member[] {
  const all =
    destinationIdentities.length === 0
      ? [...members.values()]
      : [...new Set(destinationIdentities)].flatMap((id) => members.get(id) ?? []);
  return all.filter((m) => m !== sender);
}

/** 'ws://host/path' without a trailing slash, or undefined for anything but ws(s) URLs. */
function urlKey(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const u = new URL(url);
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return undefined;
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}
