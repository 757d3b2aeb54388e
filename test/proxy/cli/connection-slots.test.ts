/**
 * keepConnectionSlots on a stand-in server and sockets, with fake timers: which sockets are closed
 * to make room, in which order, and which never are.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ConnectionSlotOptions,
  connectionSlotLimits,
  DEFAULT_CONNECTION_SLOTS,
  keepConnectionSlots,
} from '../../../proxy/cli/connection-slots.js';

const GRACE = 250;

class FakeSocket extends EventEmitter {
  bytesRead = 0;
  destroyed = false;
  constructor(readonly name: string) {
    super();
  }
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    queueMicrotask(() => this.emit('close'));
  }
}

class FakeRequest extends EventEmitter {
  constructor(
    readonly socket: FakeSocket,
    public complete: boolean,
  ) {
    super();
  }
}

let server: EventEmitter;

beforeEach(() => {
  vi.useFakeTimers();
  server = new EventEmitter();
});
afterEach(() => {
  vi.useRealTimers();
});

function slots(options: ConnectionSlotOptions) {
  return keepConnectionSlots(server, {
    graceMs: GRACE,
    now: () => Date.now(),
    ...options,
  });
}

/** Two loop turns and the microtasks between: room is made then. */
async function turns() {
  await turn();
  await turn();
}

/** One loop turn: the immediates (and timers) due now run, not those they schedule. */
async function turn() {
  await vi.runOnlyPendingTimersAsync();
}

function connect(name: string): FakeSocket {
  const socket = new FakeSocket(name);
  server.emit('connection', socket);
  return socket;
}

/** A request head read whole on `socket`; `answer` ends its response (keep-alive: it stays). */
function request(socket: FakeSocket, complete = true) {
  socket.bytesRead += 100;
  const req = new FakeRequest(socket, complete);
  const res = new EventEmitter();
  server.emit('request', req, res);
  return { req, answer: () => res.emit('close') };
}

const open = (sockets: FakeSocket[]) => sockets.filter((s) => !s.destroyed).map((s) => s.name);

describe('keepConnectionSlots', () => {
  it('closes nothing while there is room, however long a socket stays silent', async () => {
    const kept = slots({ slots: 3 });
    const sockets = [connect('a'), connect('b'), connect('c')];
    await vi.advanceTimersByTimeAsync(60_000);
    await turns();
    expect(open(sockets)).toEqual(['a', 'b', 'c']);
    expect(kept.held()).toBe(3);
  });

  it('makes room in order: silent past grace, idle keep-alive, stalled, then the oldest newcomer past the arrival room', async () => {
    const kept = slots({ slots: 2, arrivalRoom: 2 });
    const serving = connect('serving');
    request(serving);
    const idle = connect('idle');
    request(idle).answer();
    const stalled = connect('stalled');
    stalled.bytesRead = 10; // a head begun and never finished
    const silent = connect('silent');
    await vi.advanceTimersByTimeAsync(GRACE);
    const all = [serving, idle, stalled, silent];

    all.push(connect('n1'));
    await turns();
    expect(open(all)).toEqual(['serving', 'idle', 'stalled', 'n1']);
    all.push(connect('n2'));
    await turns();
    expect(open(all)).toEqual(['serving', 'stalled', 'n1', 'n2']);
    all.push(connect('n3'));
    await turns();
    expect(open(all)).toEqual(['serving', 'n1', 'n2', 'n3']);
    // Only newcomers in their grace are left to close: the oldest goes.
    all.push(connect('n4'));
    await turns();
    expect(open(all)).toEqual(['serving', 'n2', 'n3', 'n4']);
    expect(kept.evicted).toEqual({ silent: 1, idle: 1, stalled: 1, arrival: 1, refused: 0 });
    expect(kept.held()).toBe(4);
  });

  it('closes a silent socket only when a newcomer needs its room, one for one, the oldest first', async () => {
    const kept = slots({ slots: 2, arrivalRoom: 2 });
    const sockets = Array.from({ length: 4 }, (_, i) => connect(`s${i}`));
    await vi.advanceTimersByTimeAsync(60 * GRACE);
    await turns();
    expect(open(sockets)).toHaveLength(4); // past their grace, and still nobody needs the room
    sockets.push(connect('n0'), connect('n1'));
    await turns();
    expect(open(sockets)).toEqual(['s2', 's3', 'n0', 'n1']);
    expect(kept.evicted).toMatchObject({ silent: 2, arrival: 0 });
  });

  it('never closes a socket being served (a request read whole, a stream) or an upgraded one', async () => {
    const kept = slots({ slots: 2, arrivalRoom: 1 });
    const served = connect('served');
    request(served);
    const upgraded = connect('upgraded');
    server.on('upgrade', () => {}); // the bridge's handler
    server.emit('upgrade', new FakeRequest(upgraded, true), upgraded, Buffer.alloc(0));
    const flood: FakeSocket[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20; i++) flood.push(connect(`f${round}-${i}`));
      await turns();
      await vi.advanceTimersByTimeAsync(GRACE);
    }
    await turns();
    expect(served.destroyed).toBe(false);
    expect(upgraded.destroyed).toBe(false);
    expect(open(flood)).toEqual(['f4-19']);
    expect(kept.held()).toBe(3);
  });

  it('a newcomer whose head is read in the turn after its arrival is not closed, though the arrival room overflows', async () => {
    const kept = slots({ slots: 1, arrivalRoom: 2 });
    const hook = connect('hook');
    const flood = Array.from({ length: 50 }, (_, i) => connect(`f${i}`));
    // Its first bytes come in the poll phase between the two turns.
    await turn();
    request(hook);
    await turn();
    expect(hook.destroyed).toBe(false);
    expect(open(flood)).toEqual(['f48', 'f49']);
    expect(kept.evicted.arrival).toBe(48);
  });

  it('a body that stops coming is stalled; one still coming is kept', async () => {
    const kept = slots({ slots: 2, arrivalRoom: 1 });
    const coming = connect('coming');
    request(coming, false);
    const stopped = connect('stopped');
    request(stopped, false);
    for (let i = 0; i < 4; i++) {
      connect(`probe${i}`); // an arrival: room is looked for
      await turns();
      coming.bytesRead += 1;
      await vi.advanceTimersByTimeAsync(GRACE / 2);
    }
    expect(coming.destroyed).toBe(false);
    expect(stopped.destroyed).toBe(true);
    expect(kept.evicted.stalled).toBe(1);
  });

  it('a kept-alive socket whose next head stops half-way is stalled, not idle', async () => {
    const kept = slots({ slots: 1, arrivalRoom: 1 });
    const socket = connect('keep-alive');
    request(socket).answer();
    socket.bytesRead += 5; // the next request's first bytes
    connect('a');
    const b = connect('b');
    await turns();
    expect(socket.destroyed).toBe(false); // seen moving: progressing, so newcomer a went
    await vi.advanceTimersByTimeAsync(GRACE);
    request(b);
    connect('c');
    await turns();
    expect(socket.destroyed).toBe(true);
    expect(kept.evicted).toMatchObject({ idle: 0, stalled: 1, arrival: 1 });
  });

  it('a request that begins while slots requests are in progress is closed (refused)', async () => {
    const kept = slots({ slots: 2 });
    request(connect('one'));
    request(connect('two'), false); // its body still coming: in progress too
    const third = connect('three');
    request(third);
    expect(third.destroyed).toBe(true);
    expect(kept.evicted.refused).toBe(1);
  });

  it('alone on upgrade, it closes an upgrade that nobody would handle', () => {
    slots({ slots: 2 });
    const socket = connect('up');
    server.emit('upgrade', new FakeRequest(socket, true), socket, Buffer.alloc(0));
    expect(socket.destroyed).toBe(true);
  });

  it('logs once when slots run out, then at most every 10 s', async () => {
    const warn = vi.fn();
    const logger = { debug: () => {}, info: () => {}, warn, error: () => {} };
    slots({ slots: 1, arrivalRoom: 1, logger });
    for (let i = 0; i < 10; i++) connect(`s${i}`);
    await turns();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatchObject({ slots: 1, evicted: { arrival: 8 } });
    await vi.advanceTimersByTimeAsync(10_000);
    connect('later');
    await turns();
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('stop() lets go of the server', async () => {
    const kept = slots({ slots: 1, arrivalRoom: 1 });
    kept.stop();
    const sockets = Array.from({ length: 5 }, (_, i) => connect(`s${i}`));
    await vi.advanceTimersByTimeAsync(GRACE);
    await turns();
    expect(open(sockets)).toHaveLength(5);
    expect(server.listenerCount('connection')).toBe(0);
  });

  it('refuses counts that are not positive integers and a negative grace', () => {
    expect(() => slots({ slots: 0 })).toThrow(/maxConnections/);
    expect(() => slots({ arrivalRoom: 2.5 })).toThrow(/arrivalRoom/);
    expect(() => slots({ graceMs: -1 })).toThrow(/graceMs/);
    // An option passed as undefined takes its default (serve passes its own options through).
    expect(
      connectionSlotLimits({ slots: undefined, arrivalRoom: undefined, graceMs: undefined }),
    ).toEqual(DEFAULT_CONNECTION_SLOTS);
  });
});
