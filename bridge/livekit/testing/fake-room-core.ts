/**
 * What `FakeRtcRoom` and `FakeClientRoom` share: the connection to a `FakeLiveKitServer`, the
 * `remoteParticipants` map, paced sends that a disconnect cuts short, and text stream handlers and
 * readers. Each room supplies a `RoomFlavour` that turns server events into its SDK's events,
 * enums and errors.
 */
import { randomUUID } from 'node:crypto';
import type {
  FakeDisconnectReason,
  FakeJoin,
  FakeParticipantInfo,
  FakeServerEvent,
  FakeServerLink,
  FakeSignalSink,
  FakeStreamHeader,
} from './fake-protocol.js';
import type { RoomFlavour } from './fake-room-flavour.js';
import { PacedSends, type SendStep } from './fake-room-sends.js';
import type { FakeLiveKitServer } from './fake-sfu.js';
import { FakeTextStreamReader, splitUtf8, type FakeTextStreamHandler } from './fake-text-stream.js';

export interface SendOptions {
  destinationIdentities?: readonly string[] | undefined;
  topic?: string | undefined;
}

export type RoomLinkState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting';

/** One room's connection: used by composition, so each room keeps its own typed emitter. */
export class RoomLink<P> implements FakeSignalSink {
  readonly remoteParticipants = new Map<string, P>();
  readonly #server: FakeLiveKitServer;
  readonly #flavour: RoomFlavour<P>;
  readonly #handlers = new Map<string, FakeTextStreamHandler>();
  readonly #readers = new Map<string, FakeTextStreamReader>();
  #state: RoomLinkState = 'disconnected';
  #link: FakeServerLink | undefined;
  #local: FakeParticipantInfo | undefined;
  readonly #sends: PacedSends;
  /** Events that arrived while `connect` was finishing, replayed once it has. */
  #early: FakeServerEvent[] | undefined;

  constructor(server: FakeLiveKitServer, flavour: RoomFlavour<P>) {
    this.#server = server;
    this.#flavour = flavour;
    this.#sends = new PacedSends(server, flavour);
  }

  get state(): RoomLinkState {
    return this.#state;
  }

  /** The local participant as of the last successful connect. */
  get local(): FakeParticipantInfo | undefined {
    return this.#local;
  }

  /**
   * Joins; participants already there go into `remoteParticipants` without events. `ready` runs
   * once the room is connected, before any event that arrived meanwhile is replayed.
   */
  async connect(url: string, token: string, ready: (join: FakeJoin) => void): Promise<void> {
    if (this.#state !== 'disconnected') throw new Error('already connected');
    this.#state = 'connecting';
    this.#early = [];
    try {
      const join = await this.#server.join(url, token, this);
      this.#link = join.link;
      this.#local = join.local;
      this.#sends.open();
      this.remoteParticipants.clear();
      for (const info of join.others)
        this.remoteParticipants.set(info.identity, this.#flavour.participant(info));
      this.#state = 'connected';
      ready(join);
      for (const event of this.#early.splice(0)) this.receive(event);
    } catch (e) {
      this.#state = 'disconnected';
      throw e;
    } finally {
      this.#early = undefined;
    }
  }

  /** Leaves a tick later (the SDK's round trip); false if there was nothing to leave. */
  async disconnect(): Promise<boolean> {
    if (this.#state !== 'connected' && this.#state !== 'reconnecting') return false;
    await new Promise<void>((resolve) => {
      this.#server.defer(() => {
        this.#link?.leave(); // undefined if the server disconnected us meanwhile
        this.#cleanup('CLIENT_INITIATED');
        resolve();
      });
    });
    return true;
  }

  publishData(payload: Uint8Array, reliable: boolean, options: SendOptions): Promise<void> {
    const data = new Uint8Array(payload);
    return this.#send([
      (link) =>
        link.publishData(data, {
          reliable,
          destinationIdentities: options.destinationIdentities ?? [],
          topic: options.topic,
        }),
    ]);
  }

  /** A header, one part per chunk of at most 15000 bytes, and an end; each a tick apart. */
  async sendText(
    text: string,
    options: SendOptions & { attributes?: Record<string, string> | undefined },
  ): Promise<FakeStreamHeader> {
    const from = this.#local?.identity ?? '';
    const chunks = splitUtf8(text);
    const header: FakeStreamHeader = {
      streamId: randomUUID(),
      topic: options.topic ?? '',
      timestamp: Date.now(),
      totalSize: Buffer.byteLength(text),
      attributes: { ...options.attributes },
    };
    const { streamId } = header;
    const to = options.destinationIdentities ?? [];
    await this.#send([
      (link) => link.sendStreamPart({ type: 'stream-header', from, header }, to),
      ...chunks.map(
        (chunk) => (link: FakeServerLink) =>
          link.sendStreamPart({ type: 'stream-chunk', streamId, text: chunk }, to),
      ),
      (link) => link.sendStreamPart({ type: 'stream-end', streamId }, to),
    ]);
    return header;
  }

  registerTextStreamHandler(topic: string, handler: FakeTextStreamHandler): void {
    if (this.#handlers.has(topic)) throw this.#flavour.duplicateHandlerError(topic);
    this.#handlers.set(topic, handler);
  }

  unregisterTextStreamHandler(topic: string): void {
    this.#handlers.delete(topic);
  }

  /** @internal Called by the server, in order, a microtask after each event was sent. */
  receive(event: FakeServerEvent): void {
    if (this.#early !== undefined && this.#state === 'connecting') {
      this.#early.push(event);
      return;
    }
    const flavour = this.#flavour;
    switch (event.type) {
      case 'participant-joined': {
        const participant = flavour.participant(event.participant);
        this.remoteParticipants.set(event.participant.identity, participant);
        flavour.joined(participant);
        return;
      }
      case 'participant-left': {
        const { identity } = event.participant;
        const participant = this.remoteParticipants.get(identity);
        if (participant === undefined) return;
        this.remoteParticipants.delete(identity);
        if (flavour.readerSenderLeftError !== undefined) {
          for (const [id, reader] of this.#readers)
            if (reader.sender === identity) {
              this.#readers.delete(id);
              reader.fail(flavour.readerSenderLeftError(identity));
            }
        }
        flavour.left(participant, event.reason);
        return;
      }
      case 'data': {
        const from = event.from;
        const participant = from === undefined ? undefined : this.remoteParticipants.get(from);
        flavour.data(new Uint8Array(event.payload), participant, from, event.reliable, event.topic);
        return;
      }
      case 'stream-header': {
        const handler = this.#handlers.get(event.header.topic);
        if (handler === undefined) return; // dropped, as the SDKs do without a handler
        const reader = new FakeTextStreamReader(event.from);
        this.#readers.set(event.header.streamId, reader);
        handler(reader, { identity: event.from });
        return;
      }
      case 'stream-chunk':
        this.#readers.get(event.streamId)?.push(event.text);
        return;
      case 'stream-end':
        this.#readers.get(event.streamId)?.end();
        this.#readers.delete(event.streamId);
        return;
      case 'reconnecting':
        this.#state = 'reconnecting';
        flavour.reconnecting();
        return;
      case 'reconnected':
        this.#state = 'connected';
        flavour.reconnected();
        return;
      case 'disconnected':
        this.#cleanup(event.reason);
        return;
    }
  }

  #send(steps: SendStep[]): Promise<void> {
    return this.#sends.send(steps, () => this.#link);
  }

  /** Exactly once per connection: fail open readers, cut pending sends short, then tell the room. */
  #cleanup(reason: FakeDisconnectReason): void {
    if (this.#state === 'disconnected') return;
    this.#state = 'disconnected';
    this.#link = undefined;
    for (const reader of this.#readers.values())
      reader.fail(this.#flavour.readerDisconnectedError());
    this.#readers.clear();
    this.#sends.cut();
    if (this.#flavour.clearParticipantsOnDisconnect) this.remoteParticipants.clear();
    this.#flavour.disconnected(reason);
  }
}
