/**
 * The SFU bench (test/bench/sfu/) at its smallest, so its code keeps working: one measured stop per
 * provider, two floor round trips per B, one graceful disconnect and one SIGKILL, against the live
 * suite's server. No timing is asserted (speed is measured by the bench, not by tests); LiveKit's
 * own announcement of a killed provider (about 20 s) is not waited for here.
 */
import { expect, inject, it } from 'vitest';
import { runSfuBench, type SfuConfig } from '../bench/sfu/bench.js';
import { formatReport } from '../bench/sfu/report.js';

const SMOKE: SfuConfig = {
  quick: true,
  stops: 1,
  roundTrips: 2,
  stopWarmups: 1,
  floorWarmups: 1,
  kills: 1,
  leaves: 1,
  closes: 1,
  sfuAnnouncement: false,
};

it('runs each scenario of the SFU bench once over the real server', async () => {
  const report = await runSfuBench(inject('livekit'), SMOKE, () => {});
  expect(formatReport(report)).toContain('hook POST → provider abort');
  for (const where of ['here', 'child'] as const) {
    expect(report.stop[where]?.n).toBe(1);
    expect(report.http[where]?.n).toBe(1);
    expect(report.floor[where].rtt?.n).toBe(2);
    expect(report.floor[where].oneWay?.n).toBe(2);
  }
  expect(report.ratios).toHaveLength(8);
  expect(report.death.leave?.outcomes).toEqual({ PROVIDER_GONE: 1 });
  // A closing provider withdraws its tools before it leaves: its call ends TOOL_UNREGISTERED, or,
  // where the server hands over the leave before the withdrawal (best effort, under load),
  // PROVIDER_GONE.
  const closed = Object.keys(report.death.close?.outcomes ?? {});
  expect(closed).toHaveLength(1);
  expect(['TOOL_UNREGISTERED (tool-unregistered)', 'PROVIDER_GONE']).toContain(closed[0]);
  expect(report.death.kill?.n).toBe(1);
  const codes = report.deathSamples.map((sample) => sample.code);
  expect([codes[0], codes[2]]).toEqual(['PROVIDER_GONE', 'PROVIDER_GONE']);
  expect(['TOOL_UNREGISTERED', 'PROVIDER_GONE']).toContain(codes[1]);
}, 120_000);
