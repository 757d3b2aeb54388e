/**
 * B2, call overhead: an echo tool called one call at a time (sequential) and with 64 calls in
 * flight; calls per second and per-call latency (p50, p99).
 *
 * In process: toolproxy (`ToolProxy` → in-memory bridge → `ToolProvider`) against the MCP SDK
 * (`Client.callTool` → `McpServer` over `InMemoryTransport`) and a floor (pending Map, JSON both
 * ways, one timer per call, no validation). On loopback: toolproxy over its WebSocket bridge
 * against the MCP SDK over Streamable HTTP.
 */
import { floorEcho, mcpHttpEcho, mcpInMemoryEcho } from './peers.js';
import type { Samples } from './results.js';
import { collect, percentile } from './stats.js';
import { type EchoSubject, inMemoryEchoWorld, webSocketEchoWorld } from './worlds.js';

export const IN_FLIGHT = 64;
const TEXT = 'move the arm to (40, 12)';

export interface Throughput {
  readonly callsPerSecond: number;
  /** Per-call latency, µs. */
  readonly p50: number;
  readonly p99: number;
}

export interface SubjectSpec {
  readonly key: string;
  readonly make: () => Promise<EchoSubject> | EchoSubject;
}

export interface CallOverheadOptions {
  readonly runs: number;
  /** Calls per measurement in process: one at a time, and with 64 in flight. */
  readonly inProcess: { readonly sequential: number; readonly concurrent: number };
  /** The same on loopback (smaller). */
  readonly loopback: { readonly sequential: number; readonly concurrent: number };
}

export const IN_PROCESS_SUBJECTS: readonly SubjectSpec[] = [
  { key: 'toolproxy', make: inMemoryEchoWorld },
  { key: 'mcp-sdk', make: mcpInMemoryEcho },
  { key: 'floor', make: floorEcho },
];

export const LOOPBACK_SUBJECTS: readonly SubjectSpec[] = [
  { key: 'toolproxy-ws', make: webSocketEchoWorld },
  { key: 'mcp-sdk-http', make: mcpHttpEcho },
];

function checked(echoed: string): void {
  if (echoed !== TEXT) throw new Error(`bench: echo returned ${JSON.stringify(echoed)}`);
}

function summarizeRun(latencies: Float64Array, elapsedMs: number): Throughput {
  return {
    callsPerSecond: latencies.length / (elapsedMs / 1_000),
    p50: percentile(latencies, 50) * 1_000,
    p99: percentile(latencies, 99) * 1_000,
  };
}

/** `n` calls, each awaited before the next. */
export async function sequential(subject: EchoSubject, n: number): Promise<Throughput> {
  const latencies = new Float64Array(n);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const sent = performance.now();
    checked(await subject.call(TEXT));
    latencies[i] = performance.now() - sent;
  }
  return summarizeRun(latencies, performance.now() - start);
}

/** `n` calls with `inFlight` outstanding at any time. */
export async function concurrent(
  subject: EchoSubject,
  n: number,
  inFlight = IN_FLIGHT,
): Promise<Throughput> {
  const latencies = new Float64Array(n);
  let issued = 0;
  const worker = async () => {
    while (issued < n) {
      const index = issued++;
      const sent = performance.now();
      checked(await subject.call(TEXT));
      latencies[index] = performance.now() - sent;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, worker));
  return summarizeRun(latencies, performance.now() - start);
}

/** One run of one subject: a fresh instance, a warm-up, then both measurements. */
export async function measureSubject(
  spec: SubjectSpec,
  sizes: { readonly sequential: number; readonly concurrent: number },
): Promise<{ sequential: Throughput; concurrent: Throughput }> {
  const subject = await spec.make();
  try {
    const warmup = Math.max(50, Math.floor(sizes.concurrent / 10));
    await concurrent(subject, warmup);
    await sequential(subject, Math.max(20, Math.floor(sizes.sequential / 10)));
    collect();
    const seq = await sequential(subject, sizes.sequential);
    collect();
    const conc = await concurrent(subject, sizes.concurrent);
    return { sequential: seq, concurrent: conc };
  } finally {
    await subject.close();
  }
}

function record(
  samples: Samples,
  subject: string,
  mode: 'seq' | 'c64',
  n: number,
  result: Throughput,
): void {
  const base = { bench: 'B2', subject, n } as const;
  samples.add(
    { ...base, measure: `${mode}-rate`, unit: 'calls/s', better: 'higher' },
    result.callsPerSecond,
  );
  samples.add({ ...base, measure: `${mode}-p50`, unit: 'µs', better: 'lower' }, result.p50);
  samples.add({ ...base, measure: `${mode}-p99`, unit: 'µs', better: 'lower' }, result.p99);
}

async function runGroup(
  subjects: readonly SubjectSpec[],
  sizes: { readonly sequential: number; readonly concurrent: number },
  runs: number,
  samples: Samples,
): Promise<void> {
  // Peers take turns run by run, so drift on the machine falls on all of them alike.
  for (let run = 0; run < runs; run++) {
    for (const spec of subjects) {
      const result = await measureSubject(spec, sizes);
      record(samples, spec.key, 'seq', sizes.sequential, result.sequential);
      record(samples, spec.key, 'c64', sizes.concurrent, result.concurrent);
    }
  }
}

export async function runCallOverhead(
  options: CallOverheadOptions,
  samples: Samples,
): Promise<void> {
  await runGroup(IN_PROCESS_SUBJECTS, options.inProcess, options.runs, samples);
  await runGroup(LOOPBACK_SUBJECTS, options.loopback, options.runs, samples);
}
