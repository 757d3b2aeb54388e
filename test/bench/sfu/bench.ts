/**
 * The SFU bench as a function: `serve` in LiveKit mode on a running server, one child process for
 * the latency scenarios, fresh ones for the deaths; the same code for `run.ts` and the live smoke.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { type DeathOptions, runDeath } from './death.js';
import { runLatency, type LatencyOptions } from './latency.js';
import { ChildPeer } from './peer.js';
import { buildReport, type SfuReport } from './report.js';
import { type LiveKitServerInfo, startSfuWorld } from './world.js';

export interface SfuConfig extends LatencyOptions, DeathOptions {
  readonly quick: boolean;
}

export const FULL: SfuConfig = {
  quick: false,
  stops: 50,
  roundTrips: 200,
  stopWarmups: 10,
  floorWarmups: 20,
  kills: 3,
  leaves: 3,
  closes: 3,
  sfuAnnouncement: true,
};

export const QUICK: SfuConfig = {
  quick: true,
  stops: 10,
  roundTrips: 40,
  stopWarmups: 3,
  floorWarmups: 5,
  kills: 1,
  leaves: 1,
  closes: 1,
  sfuAnnouncement: true,
};

export async function runSfuBench(
  server: LiveKitServerInfo,
  config: SfuConfig,
  log: (line: string) => void,
  extraMeta: Record<string, unknown> = {},
): Promise<SfuReport> {
  const begun = performance.now();
  const loadStart = loadavg();
  const world = await startSfuWorld(server);
  try {
    const child = ChildPeer.start();
    let latency;
    try {
      log(
        `stop latency: ${config.stops} stops per provider, ${config.roundTrips} floor round trips per B`,
      );
      latency = await runLatency(world, child, config);
    } finally {
      await child.close();
    }
    log(
      `death detection: ${config.kills} kills, ${config.leaves} disconnects, ${config.closes} closes`,
    );
    const deaths = await runDeath(world, config, log);
    const cpu = cpus();
    return buildReport(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpu: cpu[0]?.model ?? 'unknown',
        cpus: cpu.length,
        memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        loadAverage: { start: loadStart, end: loadavg() },
        gc: typeof globalThis.gc === 'function',
        config,
        ...extraMeta,
        durationS: Math.round((performance.now() - begun) / 100) / 10,
      },
      latency,
      deaths,
    );
  } finally {
    await world.close();
  }
}
