/**
 * One soak run: the worlds set up, the churn driven for the configured time with memory sampled,
 * then a drain (one stop of everything, then waiting until nothing is pending, running or on the
 * wire), the end-of-run checks, and the report.
 */
import { cpus } from 'node:os';
import { Driver, PROXY_OPTIONS, Rng } from './churn.js';
import { flatness, gcFunction, type Measure, type MemoryBounds, MemorySampler } from './memory.js';
import { failuresOf, type SoakReport, worldReport } from './report.js';
import { memoryTransport, type Transport, webSocketTransport, World } from './worlds.js';

export interface SoakConfig {
  readonly durationMs: number;
  readonly seed: number;
  /** Calls started per second on the in-memory room. */
  readonly callsPerSecond: number;
  /** Calls per second over the WebSocket bridge on 127.0.0.1; 0 leaves that world out. */
  readonly webSocketCallsPerSecond: number;
  readonly sampleEveryMs: number;
  /** The share of the run, from its start, whose memory samples are ignored. */
  readonly warmupFraction: number;
  readonly bounds: MemoryBounds;
  /** Measures whose growth past the bound fails the run (the others are reported). */
  readonly enforce: readonly Measure[];
}

const TICK_MS = 20;
/** A stalled event loop resumes at the normal rate rather than in a burst. */
const MAX_STEP_MS = 100;
const DRAIN_LIMIT_MS = 15_000;

export async function runSoak(
  config: SoakConfig,
  log: (line: string) => void = () => {},
): Promise<SoakReport> {
  const wallStart = performance.now();
  const timersBefore = activeTimers();
  const startedAt = new Date().toISOString();
  const rng = new Rng(config.seed);
  const setups: Array<{ transport: Transport; rate: number; pace: number }> = [
    { transport: memoryTransport(), rate: config.callsPerSecond, pace: 1 },
  ];
  if (config.webSocketCallsPerSecond > 0)
    setups.push({
      transport: await webSocketTransport(),
      rate: config.webSocketCallsPerSecond,
      pace: 2,
    });
  const worlds: World[] = [];
  const drivers: Driver[] = [];
  for (const { transport, rate, pace } of setups) {
    const world = await World.create(transport, PROXY_OPTIONS);
    worlds.push(world);
    drivers.push(new Driver(world, rng, rate, pace));
  }

  const { gc, how } = gcFunction();
  const sampler = new MemorySampler(gc);
  sampler.start(config.sampleEveryMs);
  const logEveryMs = Math.max(5_000, config.durationMs / 10);
  await new Promise<void>((resolve) => {
    const start = performance.now();
    let last = start;
    let nextLog = start + logEveryMs;
    const step = () => {
      const now = performance.now();
      for (const driver of drivers) driver.tick(Math.min(now - last, MAX_STEP_MS));
      last = now;
      if (now >= nextLog) {
        nextLog += logEveryMs;
        log(progressLine((now - start) / 1_000, worlds, sampler));
      }
      if (now - start < config.durationMs) {
        setTimeout(step, TICK_MS);
        return;
      }
      // The drain begins with what is still pending cancelled, here in a timer callback like every
      // other action, so no answer is between its provider and the proxy when it happens.
      for (const driver of drivers) driver.stopAll('soak over');
      resolve();
    };
    setTimeout(step, TICK_MS);
  });
  const samples = sampler.stop();

  // Then every notice, abort and late answer lands.
  for (const world of worlds) await world.settle();
  const quiet = () =>
    worlds.every((w) => w.proxy.pendingCalls === 0 && w.running() === 0 && w.balanced());
  const drainUntil = performance.now() + DRAIN_LIMIT_MS;
  while (!quiet() && performance.now() < drainUntil)
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));

  worlds.forEach((world, i) => {
    world.ledger.finish();
    world.check();
    const listeners = drivers[i]?.sessionListeners() ?? 0;
    if (listeners > 0)
      world.ledger.violate('leftover', `${listeners} listeners on session signals`);
  });
  const durationS = config.durationMs / 1_000;
  const reports = worlds.map((world, i) => worldReport(world, drivers[i] as Driver, durationS));
  for (const world of worlds) await world.close();
  // Every provider, proxy, bridge and server is closed: no timer of theirs may outlive them.
  const timersAfter = await fewestTimers();

  const flat = flatness(samples, durationS, config.warmupFraction, config.bounds);
  const failures = failuresOf(reports, flat, config.enforce);
  if (timersAfter > timersBefore)
    failures.push(`${timersAfter - timersBefore} timers left running after everything closed`);
  return {
    meta: {
      node: process.version,
      cpus: cpus().length,
      startedAt,
      seed: config.seed,
      durationS,
      wallS: Math.round((performance.now() - wallStart) / 1_000),
      gc: how,
    },
    worlds: reports,
    timers: { before: timersBefore, after: timersAfter },
    memory: { bounds: config.bounds, enforced: config.enforce, flatness: flat, samples },
    messages: worlds.flatMap((world) => world.ledger.messages),
    failures,
    pass: failures.length === 0,
  };
}

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
}

/**
 * The fewest active timers over 100 ms: a host's own short-lived timers (a test runner reporting
 * progress) come and go, a leaked one stays. The wait's own timer has fired when it is counted.
 */
async function fewestTimers(): Promise<number> {
  let fewest = activeTimers();
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    fewest = Math.min(fewest, activeTimers());
  }
  return fewest;
}

function progressLine(t: number, worlds: readonly World[], sampler: MemorySampler): string {
  const last = sampler.samples.at(-1);
  const mib = (bytes = 0) => `${(bytes / 1_048_576).toFixed(1)} MiB`;
  const parts = worlds.map((w) => {
    const { started } = w.ledger.counts;
    const bad = Object.values(w.ledger.violations).reduce((a, b) => a + b, 0);
    return `${w.name} ${started.toLocaleString('en-US')} calls, ${w.proxy.pendingCalls} pending, ${bad} violations`;
  });
  return `t=${t.toFixed(0)} s  ${parts.join('; ')}; rss ${mib(last?.rss)}, heap ${mib(last?.heapUsed)}`;
}
