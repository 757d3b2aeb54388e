/**
 * "Settled", counted rather than waited for, for the contract worlds on the real server: every
 * channel is tapped, and settled() resolves once every frame handed to the transport has been
 * delivered, or after a bound, for frames addressed to someone who left.
 */
import type { ToolChannel } from '../../src/index.js';

// The contract fakes timers in one test; frames still cross a real network meanwhile.
const { setTimeout: realSetTimeout, clearTimeout: realClearTimeout } = globalThis;
const SETTLE_BOUND_MS = 3_000;

export class FrameLedger {
  readonly #sent = new Map<string, number>();
  readonly #received = new Map<string, number>();
  readonly #waiters = new Set<() => void>();

  tap(channel: ToolChannel): ToolChannel {
    const count = (map: Map<string, number>, identity: string, by: number) =>
      map.set(identity, (map.get(identity) ?? 0) + by);
    return {
      get identity() {
        return channel.identity;
      },
      start: (handlers) =>
        channel.start({
          ...handlers,
          onFrame: (from, text) => {
            count(this.#received, channel.identity, 1);
            handlers.onFrame(from, text);
            for (const waiter of this.#waiters) waiter();
          },
        }),
      peers: () => channel.peers(),
      send: async (to, text) => {
        count(this.#sent, to, 1);
        try {
          await channel.send(to, text);
        } catch (error) {
          count(this.#sent, to, -1);
          throw error;
        }
      },
      close: () => channel.close(),
      // The transport's own trait: a proxy on a LiveKit channel probes its providers.
      ...(channel.livenessProbes === undefined ? {} : { livenessProbes: channel.livenessProbes }),
    };
  }

  #delivered(): boolean {
    for (const [identity, sent] of this.#sent) {
      if ((this.#received.get(identity) ?? 0) < sent) return false;
    }
    return true;
  }

  settled(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        realClearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const check = () => {
        if (this.#delivered()) done();
      };
      const timer = realSetTimeout(done, SETTLE_BOUND_MS);
      this.#waiters.add(check);
      check();
    });
  }
}
