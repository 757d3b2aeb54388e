/**
 * Connection slots for `serve`'s HTTP server, in place of Node's `maxConnections`, which closes
 * every socket past the limit at once: a flood of silent sockets, reopened as they are closed,
 * then keeps out the hook that stops the agent, the provider that reconnects and `/healthz`.
 *
 * Here a newcomer is always let in. When it would take the held sockets past `slots` +
 * `arrivalRoom`, room is made by closing the sockets that cost least to lose, oldest first: those
 * that sent nothing within their grace, idle keep-alive ones, stalled requests, then newcomers
 * still in their grace. A socket being served (a request read whole and not yet answered, an MCP
 * stream) or upgraded (the bridge) is never closed for room. Sockets are closed only when room is
 * needed: each one closed is one the flood reopens, and every socket it has to keep in flight
 * instead queues, ahead of the hook, in the kernel's accept queue. Room is made two loop turns
 * after an arrival, so that a newcomer's first bytes, which come behind its accept, are read first.
 */
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type Logger, silentLogger } from '../../src/index.js';
import { positiveInteger } from '../../src/seam.js';

export interface ConnectionSlotOptions {
  /**
   * Sockets for requests, streams and providers: a request that begins while this many are in
   * progress is closed (`refused`). Default 1,024.
   */
  slots?: number;
  /**
   * Sockets held beyond `slots`, so that a flood's sockets can wait there, silent, rather than be
   * closed and reopened, and a newcomer is not closed before its grace is over. Default 1,024.
   */
  arrivalRoom?: number;
  /** How long a newcomer has to send its request head before it may be closed for room. Default 250 ms. */
  graceMs?: number;
  /** Told once when room is first made, then at most every 10 s, with the counts. */
  logger?: Logger;
  /** Default `performance.now`. */
  now?: () => number;
}

/**
 * Why a socket was closed: to make room (`silent`, `idle`, `stalled`, `arrival`: a newcomer in its
 * grace), or `refused`: a request began while `slots` requests were already in progress.
 */
export type EvictionReason = 'silent' | 'idle' | 'stalled' | 'arrival' | 'refused';

export interface ConnectionSlots {
  /** Sockets closed, by reason. */
  readonly evicted: Readonly<Record<EvictionReason, number>>;
  /** Sockets held now. */
  held(): number;
  /** Stops watching (the server's own close ends the sockets). */
  stop(): void;
}

export const DEFAULT_CONNECTION_SLOTS = { slots: 1_024, arrivalRoom: 1_024, graceMs: 250 };
const LOG_EVERY_MS = 10_000;

interface Held {
  readonly socket: Socket;
  readonly since: number;
  /** The request being read or answered; undefined between requests. */
  request: IncomingMessage | undefined;
  /** A request was answered: between requests, the socket waits for the next (keep-alive). */
  answered: boolean;
  upgraded: boolean;
  /** bytesRead when last looked at, and when it last moved (a body coming in). */
  bytes: number;
  movedAt: number;
  /** When bytes of the next request were first seen on a kept-alive socket. */
  nextHeadAt: number | undefined;
}

/** The options with their defaults, or a RangeError naming the one that is wrong. */
export function connectionSlotLimits(
  options: Pick<ConnectionSlotOptions, 'slots' | 'arrivalRoom' | 'graceMs'>,
): { slots: number; arrivalRoom: number; graceMs: number } {
  // `??`, not a spread: an option passed as undefined takes its default.
  const slots = options.slots ?? DEFAULT_CONNECTION_SLOTS.slots;
  const arrivalRoom = options.arrivalRoom ?? DEFAULT_CONNECTION_SLOTS.arrivalRoom;
  const graceMs = options.graceMs ?? DEFAULT_CONNECTION_SLOTS.graceMs;
  if (!Number.isFinite(graceMs) || graceMs < 0)
    throw new RangeError('serve: timeouts.graceMs must be a finite number of ms, 0 or more');
  return {
    slots: positiveInteger(slots, slots, 'serve: maxConnections'),
    arrivalRoom: positiveInteger(arrivalRoom, arrivalRoom, 'serve: arrivalRoom'),
    graceMs,
  };
}

/** Being served: a request read whole and not yet answered (an MCP stream too), or upgraded. */
function isServing(entry: Held): boolean {
  return entry.upgraded || (entry.request?.complete === true && !entry.answered);
}

/** A request begun (its body may still be coming) and not yet answered, or upgraded. */
function isInProgress(entry: Held): boolean {
  return entry.upgraded || (entry.request !== undefined && !entry.answered);
}

type Kind = 'serving' | 'progressing' | 'fresh' | Exclude<EvictionReason, 'arrival' | 'refused'>;

/** What a socket is now, for making room; reads its byte count to see whether it moved. */
function kindOf(entry: Held, at: number, graceMs: number): Kind {
  if (isServing(entry)) return 'serving';
  const bytes = entry.socket.bytesRead;
  const moved = bytes !== entry.bytes;
  entry.bytes = bytes;
  if (moved) entry.movedAt = at;
  if (entry.request !== undefined) {
    // A body still coming: stalled once no byte has come for a grace.
    return at - entry.movedAt >= graceMs ? 'stalled' : 'progressing';
  }
  if (!entry.answered) {
    // No head read whole yet on this connection.
    if (at - entry.since < graceMs) return 'fresh';
    return bytes === 0 ? 'silent' : 'stalled';
  }
  if (!moved && entry.nextHeadAt === undefined) return 'idle';
  entry.nextHeadAt ??= at;
  return at - entry.nextHeadAt >= graceMs ? 'stalled' : 'progressing';
}

/** What the slots use of an HTTP server: its connection, request and upgrade events. */
export type SlotServer = Pick<EventEmitter, 'on' | 'off' | 'prependListener' | 'listenerCount'>;

export function keepConnectionSlots(
  server: SlotServer,
  options: ConnectionSlotOptions = {},
): ConnectionSlots {
  const { slots, arrivalRoom, graceMs } = connectionSlotLimits(options);
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? (() => performance.now());
  const evicted: Record<EvictionReason, number> = {
    silent: 0,
    idle: 0,
    stalled: 0,
    arrival: 0,
    refused: 0,
  };
  // Insertion order is arrival order: the oldest first.
  const held = new Map<Socket, Held>();
  const cap = slots + arrivalRoom;
  let sweepPending = false;
  let loggedAt: number | undefined;

  const evict = (entry: Held, reason: EvictionReason) => {
    evicted[reason]++;
    held.delete(entry.socket);
    entry.socket.destroy();
  };

  const report = (at: number) => {
    if (loggedAt !== undefined && at - loggedAt < LOG_EVERY_MS) return;
    loggedAt = at;
    logger.warn(
      { held: held.size, slots, arrivalRoom, evicted: { ...evicted } },
      'connection slots full: closing silent, idle and stalled sockets to make room',
    );
  };

  const sweep = () => {
    sweepPending = false;
    const need = held.size - cap;
    if (need <= 0) return;
    const at = now();
    const byKind: Record<Kind, Held[]> = {
      serving: [],
      progressing: [],
      fresh: [],
      silent: [],
      idle: [],
      stalled: [],
    };
    // Oldest first; under a silent flood the oldest are silent, and the look stops there.
    for (const entry of held.values()) {
      byKind[kindOf(entry, at, graceMs)].push(entry);
      if (byKind.silent.length >= need) break;
    }
    for (const reason of ['silent', 'idle', 'stalled', 'fresh'] as const) {
      for (const entry of byKind[reason]) {
        if (held.size <= cap) break;
        evict(entry, reason === 'fresh' ? 'arrival' : reason);
      }
    }
    report(at);
  };

  const schedule = () => {
    if (sweepPending) return;
    sweepPending = true;
    // Two turns: the newcomers' first bytes are read in the poll phase between the two.
    setImmediate(() => setImmediate(sweep));
  };

  const onConnection = (socket: Socket) => {
    const at = now();
    held.set(socket, {
      socket,
      since: at,
      request: undefined,
      answered: false,
      upgraded: false,
      bytes: 0,
      movedAt: at,
      nextHeadAt: undefined,
    });
    socket.once('close', () => held.delete(socket));
    if (held.size > cap) schedule();
  };

  /** The socket's entry, unless `slots` requests are already in progress: then it is closed. */
  const admit = (socket: Socket): Held | undefined => {
    const entry = held.get(socket);
    if (entry === undefined || held.size < slots) return entry;
    let inProgress = 0;
    for (const other of held.values()) if (isInProgress(other)) inProgress++;
    if (inProgress < slots) return entry;
    // As though its client had gone: the route sees a closed socket, as for any client that leaves.
    evict(entry, 'refused');
    report(now());
    return undefined;
  };

  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    const entry = admit(request.socket);
    if (entry === undefined) return;
    entry.request = request;
    entry.answered = false;
    entry.nextHeadAt = undefined;
    entry.bytes = request.socket.bytesRead;
    entry.movedAt = now();
    response.once('close', () => {
      if (entry.request !== request) return;
      entry.request = undefined;
      entry.answered = true;
      entry.bytes = request.socket.bytesRead;
    });
  };

  const onUpgrade = (_request: IncomingMessage, socket: Socket) => {
    const entry = admit(socket);
    if (entry !== undefined) entry.upgraded = true;
    // Alone on 'upgrade', this listener would leave upgrades hanging: nobody else handles them.
    if (server.listenerCount('upgrade') === 1) socket.destroy();
  };

  server.on('connection', onConnection);
  server.prependListener('request', onRequest);
  server.prependListener('upgrade', onUpgrade);
  return {
    evicted,
    held: () => held.size,
    stop: () => {
      server.off('connection', onConnection);
      server.off('request', onRequest);
      server.off('upgrade', onUpgrade);
    },
  };
}
