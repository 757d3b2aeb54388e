/** The SFU bench's figures: p50/p95/max of each measure, the ratios to the floor, the table. */
import { percentile } from '../stats.js';
import type { DeathMode, DeathSample } from './death.js';
import { type LatencySamples, WHERE, type Where } from './latency.js';

/** Nearest-rank percentiles of one measure, ms; every sample kept, in run order. */
export interface Stat {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly samples: readonly number[];
}

export function stat(samples: readonly number[]): Stat | undefined {
  if (samples.length === 0) return undefined;
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    max: Math.max(...samples),
    samples: [...samples],
  };
}

export interface Ratio {
  readonly id: string;
  readonly label: string;
  readonly value: number;
}

export interface SfuReport {
  readonly meta: Readonly<Record<string, unknown>> & { readonly durationS: number };
  /** Hook POST → provider abort, provider here (serve's process) or in a child process. */
  readonly stop: Record<Where, Stat | undefined>;
  /** The hook's floor: a bare HTTP server's POST → publishData → B's listener. */
  readonly http: Record<Where, Stat | undefined>;
  readonly floor: Record<Where, { rtt?: Stat; halfRtt?: Stat; oneWay?: Stat }>;
  readonly ratios: readonly Ratio[];
  /** Caller rejected; `sfuAnnounced`: another participant saw `ParticipantDisconnected`. */
  readonly death: Record<
    DeathMode,
    (Stat & { outcomes: Record<string, number>; sfuAnnounced: Stat | undefined }) | undefined
  >;
  readonly deathSamples: readonly DeathSample[];
}

function deathStat(samples: readonly DeathSample[], mode: DeathMode) {
  const mine = samples.filter((sample) => sample.mode === mode);
  const base = stat(mine.map((sample) => sample.ms));
  if (base === undefined) return undefined;
  const outcomes: Record<string, number> = {};
  for (const { code, reason } of mine) {
    const key = reason === undefined ? code : `${code} (${reason})`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  const announced = mine.flatMap((sample) =>
    sample.sfuAnnouncedMs === undefined ? [] : [sample.sfuAnnouncedMs],
  );
  return { ...base, outcomes, sfuAnnounced: stat(announced) };
}

export function buildReport(
  meta: SfuReport['meta'],
  latency: LatencySamples,
  deaths: readonly DeathSample[],
): SfuReport {
  const floor = {} as SfuReport['floor'];
  const stop = {} as SfuReport['stop'];
  const http = {} as SfuReport['http'];
  const ratios: Ratio[] = [];
  for (const where of WHERE) {
    const rtt = stat(latency.floor[where].rtt);
    const halfRtt = stat(latency.floor[where].rtt.map((ms) => ms / 2));
    const oneWay = stat(latency.floor[where].oneWay);
    floor[where] = { ...(rtt && { rtt }), ...(halfRtt && { halfRtt }), ...(oneWay && { oneWay }) };
    stop[where] = stat(latency.stop[where]);
    http[where] = stat(latency.http[where]);
    const s = stop[where];
    const place = where === 'here' ? "in serve's process" : 'in a child process';
    for (const [id, floorStat, name] of [
      ['half-rtt', halfRtt, 'publishData RTT/2'],
      ['http', http[where], 'bare HTTP → publishData'],
    ] as const) {
      if (s === undefined || floorStat === undefined) continue;
      for (const p of ['p50', 'p95'] as const) {
        ratios.push({
          id: `stop-${where}/${id}.${p}`,
          label: `hook → abort / ${name}, ${p}, provider ${place}`,
          value: s[p] / floorStat[p],
        });
      }
    }
  }
  return {
    meta,
    stop,
    http,
    floor,
    ratios,
    death: {
      kill: deathStat(deaths, 'kill'),
      leave: deathStat(deaths, 'leave'),
      close: deathStat(deaths, 'close'),
    },
    deathSamples: deaths,
  };
}

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(2));
const LABEL = 48;
const WHERE_LABEL: Record<Where, string> = { here: "serve's process", child: 'child process' };

function row(label: string, where: string, s: Stat | undefined): string {
  const head = `  ${label.padEnd(LABEL)} ${where.padEnd(15)}`;
  if (s === undefined) return `${head}  (not run)`;
  const cells = [s.p50, s.p95, s.max].map((value) => ms(value).padStart(9)).join(' ');
  return `${head} ${String(s.n).padStart(4)} ${cells}`;
}

export function formatReport(report: SfuReport): string {
  const { kill, leave, close } = report.death;
  const lines = [
    'toolproxy bench over the real LiveKit SFU (loopback-only namespace), ms',
    `  ${'measure'.padEnd(LABEL)} ${'B / provider in'.padEnd(15)} ${'N'.padStart(4)} ${['p50', 'p95', 'max'].map((h) => h.padStart(9)).join(' ')}`,
  ];
  for (const w of WHERE)
    lines.push(row('stop: hook POST → provider abort', WHERE_LABEL[w], report.stop[w]));
  for (const w of WHERE)
    lines.push(row('floor: bare HTTP POST → publishData → B', WHERE_LABEL[w], report.http[w]));
  for (const w of WHERE) {
    const floor = report.floor[w];
    lines.push(row('floor: publishData A → B → A, RTT', WHERE_LABEL[w], floor.rtt));
    lines.push(row('floor: RTT/2', WHERE_LABEL[w], floor.halfRtt));
    lines.push(row("floor: A → B one way (B's clock − A's)", WHERE_LABEL[w], floor.oneWay));
  }
  lines.push(row('death: SIGKILL → caller rejected', 'child process', kill));
  lines.push(row('death: room.disconnect() → caller rejected', 'child process', leave));
  lines.push(row('death: provider.close() → caller rejected', 'child process', close));
  lines.push(
    row('LiveKit: SIGKILL → ParticipantDisconnected', 'child process', kill?.sfuAnnounced),
  );
  lines.push(
    row('LiveKit: disconnect() → ParticipantDisconnected', 'child process', leave?.sfuAnnounced),
  );
  for (const mode of ['kill', 'leave', 'close'] as const) {
    const outcomes = report.death[mode]?.outcomes;
    if (outcomes === undefined) continue;
    const list = Object.entries(outcomes).map(([what, n]) => `${n}× ${what}`);
    lines.push(`  ${mode} outcomes: ${list.join(', ')}`);
  }
  lines.push('', 'ratios (by percentile)');
  for (const ratio of report.ratios) lines.push(`  ${ratio.label}: ${ratio.value.toFixed(2)}×`);
  return lines.join('\n');
}
