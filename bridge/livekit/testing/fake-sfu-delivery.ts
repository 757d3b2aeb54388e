/**
 * How the fake server delivers: every step a microtask later, counted so `settle()` can tell when
 * traffic has stopped, and what an interrupted, silent or crashed member still gets.
 */
import type { FakeServerEvent } from './fake-protocol.js';
import type { Member } from './fake-sfu-members.js';

/** 'data' is lost while interrupted, 'membership' is held, 'control' always goes through. */
export type Delivery = 'data' | 'membership' | 'control';

export class DeliveryQueue {
  #inFlight = 0;

  /** Resolves once no delivery or send step has been pending for a few microtasks. */
  async settle(): Promise<void> {
    for (let idle = 0, spins = 0; idle < 5; spins++) {
      if (spins > 100_000) throw new Error('FakeLiveKitServer.settle(): traffic never stops');
      await Promise.resolve();
      idle = this.#inFlight === 0 ? idle + 1 : 0;
    }
  }

  /** Runs `step` a microtask later, counted by `settle()`. */
  defer(step: () => void): void {
    this.#inFlight++;
    void Promise.resolve().then(() => {
      this.#inFlight--;
      step();
    });
  }

  /** Runs `step` after `hops` deferred microtasks (each counted by `settle()`). */
  deferHops(hops: number, step: () => void): void {
    this.defer(() => (hops <= 1 ? step() : this.deferHops(hops - 1, step)));
  }

  /** Queues `event` for `member`; data is lost while it is interrupted, membership is held. */
  post(member: Member, event: FakeServerEvent, kind: Delivery): void {
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
