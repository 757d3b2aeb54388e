/**
 * The floor: the least a LiveKit data-channel hop can cost. Two rtc-node participants in a room of
 * the same server; A publishes one reliable packet addressed to B (`destination_identities`), B
 * publishes it straight back to A on receipt, and A measures the round trip. B notes when each
 * packet arrived, so A → B one way is measured too (CLOCK_MONOTONIC in both processes). No codec,
 * no schema, no call table: a packet of about the size of a cancel notice, bytes in, bytes out.
 */
import { type RemoteParticipant, type Room, RoomEvent } from '@livekit/rtc-node';
import { monotonicMs } from '../stats.js';
import { Mailbox } from '../mailbox.js';
import { within } from './wait.js';

export const FLOOR_TOPIC = 'bench-floor';
/** How long one round trip may take before the floor counts as broken. */
const ROUND_TRIP_LIMIT_MS = 5_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** B's report of one packet: its sequence number and when B's listener saw it. */
export interface EchoReport {
  readonly type: 'echoed';
  readonly seq: number;
  readonly at: number;
}

/** About the bytes of an `agent:tool-call-cancelled` notice (about 130 B of JSON). */
export function floorPayload(seq: number): Uint8Array {
  const pad = 'x'.repeat(96);
  return encoder.encode(`{"seq":${seq},"type":"bench:floor","pad":"${pad}"}`);
}

function seqOf(payload: Uint8Array): number {
  const match = /^\{"seq":(\d+),/.exec(decoder.decode(payload.subarray(0, 24)));
  return match === null ? -1 : Number(match[1]);
}

/** B: answers every packet on the floor's topic to its sender at once, then reports its arrival. */
export function answerEchoes(room: Room, report: (echo: EchoReport) => void): void {
  room.on(
    RoomEvent.DataReceived,
    (payload: Uint8Array, participant?: RemoteParticipant, _kind?: unknown, topic?: string) => {
      if (topic !== FLOOR_TOPIC || participant === undefined) return;
      const at = monotonicMs();
      room.localParticipant
        ?.publishData(payload, {
          reliable: true,
          destination_identities: [participant.identity],
          topic: FLOOR_TOPIC,
        })
        .catch(() => {}); // B leaving mid-run: A's wait reports it
      report({ type: 'echoed', seq: seqOf(payload), at });
    },
  );
}

export interface RoundTrip {
  /** `monotonicMs()` just before A's `publishData`. */
  readonly sent: number;
  /** `monotonicMs()` in A's listener for the answer. */
  readonly back: number;
}

/** A: sends numbered packets and waits for each to come back. */
export class FloorSender {
  readonly #room: Room;
  readonly #pending = new Map<number, (back: number) => void>();

  constructor(room: Room) {
    this.#room = room;
    room.on(
      RoomEvent.DataReceived,
      (payload: Uint8Array, _participant?: RemoteParticipant, _kind?: unknown, topic?: string) => {
        if (topic !== FLOOR_TOPIC) return;
        const back = monotonicMs();
        const seq = seqOf(payload);
        this.#pending.get(seq)?.(back);
        this.#pending.delete(seq);
      },
    );
  }

  async roundTrip(to: string, seq: number): Promise<RoundTrip> {
    const local = this.#room.localParticipant;
    if (local === undefined) throw new Error('bench: the floor sender is not connected');
    const payload = floorPayload(seq);
    const answered = new Promise<number>((resolve) => this.#pending.set(seq, resolve));
    const sent = monotonicMs();
    const published = local.publishData(payload, {
      reliable: true,
      destination_identities: [to],
      topic: FLOOR_TOPIC,
    });
    // A publish that fails ends the wait at once, not at the limit.
    const failed = published.then(() => new Promise<never>(() => {}));
    try {
      const back = await within(
        Promise.race([answered, failed]),
        ROUND_TRIP_LIMIT_MS,
        `floor answer from ${to}`,
      );
      return { sent, back };
    } finally {
      this.#pending.delete(seq);
    }
  }
}

/** The in-process B's reports, as the child's arrive (its `echoed` mailbox). */
export function echoMailbox(): { box: Mailbox<EchoReport>; report: (echo: EchoReport) => void } {
  const box = new Mailbox<EchoReport>();
  return { box, report: (echo) => box.put(echo) };
}
