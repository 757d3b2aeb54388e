/**
 * Provider death detection over the real SFU: a provider in a child process holds a call made with
 * `serve.proxy.call` (the in-process caller: the call table MCP calls land in too); after a random
 * 1.5–2.5 s (so a liveness probe, where there is one, has been answered at least once, at a random
 * phase), the child is SIGKILLed, or its room disconnects (`room.disconnect()`, graceful). From
 * just before the kill (or the child's `disconnect()`) to the caller's rejection handler. The
 * outcome is recorded as it comes: error code and reason, whatever the code does today.
 */
import { type RemoteParticipant, type Room, RoomEvent } from '@livekit/rtc-node';
import { isToolProxyError } from '../../../src/index.js';
import { monotonicMs } from '../stats.js';
import { ChildPeer } from './peer.js';
import { delay, within } from './wait.js';
import { SERVE_ROOM, type SfuWorld } from './world.js';

/** SIGKILL; `room.disconnect()` alone; `ToolProvider.close()` then `room.disconnect()`. */
export type DeathMode = 'kill' | 'leave' | 'close';

export interface DeathSample {
  readonly mode: DeathMode;
  /** Kill (or disconnect) → the caller's rejection, ms. */
  readonly ms: number;
  /** The rejection's error code (`PROVIDER_GONE` expected) and reason, if any. */
  readonly code: string;
  readonly reason: string | undefined;
  /** How long the call had been held when the provider died, ms. */
  readonly heldMs: number;
  /**
   * Kill (or disconnect) → another participant of the room sees `ParticipantDisconnected`: when
   * LiveKit itself announces the departure, ms (undefined: not within the limit).
   */
  readonly sfuAnnouncedMs: number | undefined;
}

/** A bound on detection: LiveKit's own takes about 20 s after a kill. */
const DETECTION_LIMIT_MS = 60_000;

/** When a participant of the room saw each identity leave (`ParticipantDisconnected`). */
class Departures {
  readonly #seen = new Map<string, number>();
  readonly #waiting = new Map<string, (at: number) => void>();

  constructor(observer: Room) {
    observer.on(RoomEvent.ParticipantDisconnected, (participant: RemoteParticipant) => {
      const at = monotonicMs();
      this.#seen.set(participant.identity, at);
      this.#waiting.get(participant.identity)?.(at);
    });
  }

  /** `monotonicMs()` when `identity` was seen leaving, or undefined if not within `ms`. */
  async of(identity: string, ms: number): Promise<number | undefined> {
    const seen = this.#seen.get(identity);
    if (seen !== undefined) return seen;
    const left = new Promise<number>((resolve) => this.#waiting.set(identity, resolve));
    try {
      return await within(left, ms, `${identity} leaving`);
    } catch {
      return undefined;
    } finally {
      this.#waiting.delete(identity);
    }
  }
}

export interface DeathOptions {
  readonly kills: number;
  readonly leaves: number;
  /** Providers closed (`ToolProvider.close()`, which withdraws its tools) before they leave. */
  readonly closes: number;
  /** Also wait for LiveKit's own `ParticipantDisconnected` (about 20 s after a kill). */
  readonly sfuAnnouncement: boolean;
}

async function dieOnce(
  world: SfuWorld,
  departures: Departures,
  options: DeathOptions,
  mode: DeathMode,
  index: number,
): Promise<DeathSample> {
  const tool = `doomed_${mode}_${index}`;
  const peer = ChildPeer.start();
  try {
    const identity = `robot-${mode}-${index}`;
    await peer.command({
      type: 'provider',
      url: world.server.url,
      token: await world.providerToken(identity),
      tool,
    });
    await world.serve.proxy.waitForTool(tool, { signal: AbortSignal.timeout(10_000) });
    const outcome = world.serve.proxy.call(tool, { step: index }, { timeoutMs: 120_000 }).then(
      () => {
        throw new Error(`bench: ${tool} answered`);
      },
      (error: unknown) => ({
        at: monotonicMs(),
        code: isToolProxyError(error) ? error.code : String(error),
        reason: isToolProxyError(error) ? error.reason : undefined,
      }),
    );
    const started = await within(peer.started.take(), 10_000, `start of ${tool}`);
    await delay(1_500 + Math.random() * 1_000);
    let from: number;
    if (mode === 'kill') {
      from = monotonicMs();
      peer.kill();
    } else {
      from = (await peer.leave(mode === 'close')).at;
    }
    const settled = await within(outcome, DETECTION_LIMIT_MS, `rejection of ${tool} (${mode})`);
    // LiveKit's own announcement too (about 20 s after a kill), for comparison.
    const left = options.sfuAnnouncement
      ? await departures.of(identity, DETECTION_LIMIT_MS)
      : undefined;
    return {
      mode,
      ms: settled.at - from,
      code: settled.code,
      reason: settled.reason,
      heldMs: from - started.at,
      sfuAnnouncedMs: left === undefined ? undefined : left - from,
    };
  } finally {
    await peer.close();
  }
}

/** `kills` SIGKILLs and `leaves` graceful disconnects, alternating, a fresh child each. */
export async function runDeath(
  world: SfuWorld,
  options: DeathOptions,
  log: (line: string) => void,
): Promise<DeathSample[]> {
  const samples: DeathSample[] = [];
  // Watches the room as any participant would: when does LiveKit say the provider left?
  const observer = await world.join(SERVE_ROOM, 'bench-observer', 'agent');
  const departures = new Departures(observer);
  const counts = { kill: options.kills, leave: options.leaves, close: options.closes };
  for (let i = 0; i < Math.max(...Object.values(counts)); i++) {
    for (const mode of ['leave', 'close', 'kill'] as const) {
      if (i >= counts[mode]) continue;
      const sample = await dieOnce(world, departures, options, mode, i);
      const sfu = sample.sfuAnnouncedMs;
      const announced = sfu === undefined ? '' : `; LiveKit announced it at ${sfu.toFixed(0)} ms`;
      log(
        `  ${mode} ${i + 1}: ${sample.ms.toFixed(1)} ms → ${sample.code} ${sample.reason ?? ''}${announced}`,
      );
      samples.push(sample);
    }
  }
  await observer.disconnect();
  return samples;
}
