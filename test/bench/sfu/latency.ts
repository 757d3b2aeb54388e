/**
 * Stop latency over the real SFU, and the floor beside it, interleaved in one run.
 *
 * Stop: an MCP `tools/call` (the SDK's client, `_meta["toolproxy/sessionKey"]: K`) to a provider
 * whose tool holds it; once the handler holds the call and the MCP client has its answer's
 * headers, `POST /hooks/agent_loop_stopped {"session_key": K}`; from just before the POST to the
 * provider's abort listener. Two providers: one in this process (`here`), one in a child process
 * (`child`). Floors, B here and B in the child: A → B → A `publishData` round trips (floor.ts),
 * and the hook's floor, a bare HTTP server publishing from A to B per POST (floor-http.ts). The
 * six paths take turns, order rotating, so drift on the machine falls on all alike.
 */
import { rtcProviderChannel } from '../../../bridge/livekit/node-provider.js';
import { SESSION_KEY_META } from '../../../proxy/mcp/call-placement.js';
import { CancelReason, ErrorCode, ToolProvider } from '../../../src/index.js';
import type { AbortedReport, StartedReport } from '../b4-peer.js';
import { monotonicMs, turn, until } from '../stats.js';
import { answerEchoes, echoMailbox, type EchoReport, FloorSender } from './floor.js';
import { type HttpFloor, startHttpFloor } from './floor-http.js';
import { holdTool } from '../hold-tool.js';
import type { ChildPeer } from './peer.js';
import { Mailbox } from '../mailbox.js';
import { within } from './wait.js';
import { FLOOR_ROOM, knows, SERVE_ROOM, type SfuWorld } from './world.js';

export type Where = 'here' | 'child';
export const WHERE: readonly Where[] = ['here', 'child'];

export interface LatencyOptions {
  /** Measured stops per provider (and POSTs to the hook's floor per B). */
  readonly stops: number;
  /** Measured floor round trips per B. */
  readonly roundTrips: number;
  /** Unmeasured repetitions of each path first (JIT, connections, the SFU's first packets). */
  readonly stopWarmups: number;
  readonly floorWarmups: number;
}

export interface LatencySamples {
  /** Hook POST → provider abort, ms, per stop. */
  readonly stop: Record<Where, number[]>;
  /** The hook's floor (floor-http.ts): POST → B's listener, ms. */
  readonly http: Record<Where, number[]>;
  /** Floor: A's round trip, and A → B one way (B's arrival − A's send), ms. */
  readonly floor: Record<Where, { rtt: number[]; oneWay: number[] }>;
}

interface HoldEnd {
  readonly started: Mailbox<StartedReport>;
  readonly aborted: Mailbox<AbortedReport>;
}

const TOOL: Record<Where, string> = { here: 'hold_here', child: 'hold_child' };
const START_LIMIT_MS = 10_000;
const ABORT_LIMIT_MS = 5_000;

/** Lets what the last step left in flight finish, then a young-generation GC (with --expose-gc). */
async function quiet(): Promise<void> {
  await turn();
  await turn();
  globalThis.gc?.({ type: 'minor' });
}

async function stopOnce(world: SfuWorld, end: HoldEnd, tool: string, step: number) {
  const session = `bench-sfu-stop-${step}`;
  const call = world.mcp.callTool(
    { name: tool, arguments: { step }, _meta: { [SESSION_KEY_META]: session } },
    undefined,
    { timeout: 60_000 },
  );
  const started = await within(end.started.take(), START_LIMIT_MS, `start of ${tool}`);
  await until(() => world.mcpRequestsOpen() === 0, 'the MCP call to be answering');
  await quiet();
  const body = JSON.stringify({ session_key: session });
  const sent = monotonicMs();
  const answer = world.hooks.post('/hooks/agent_loop_stopped', body);
  const aborted = await within(end.aborted.take(), ABORT_LIMIT_MS, `abort of ${tool}`);
  if (aborted.callId !== started.callId)
    throw new Error(`bench: call ${aborted.callId} aborted, not ${started.callId}`);
  if (aborted.code !== ErrorCode.Cancelled || aborted.reason !== CancelReason.AgentLoopStopped)
    throw new Error(`bench: ${tool} aborted as ${aborted.code} ${aborted.reason ?? ''}`);
  const { status, body: text } = await answer;
  if (status !== 200 || (JSON.parse(text) as { cancelled?: number }).cancelled !== 1)
    throw new Error(`bench: the hook answered ${status} ${text}`);
  if ((await call).isError !== true) throw new Error('bench: the stopped MCP call did not fail');
  return aborted.at - sent;
}

async function floorOnce(
  sender: FloorSender,
  to: string,
  echoes: Mailbox<EchoReport>,
  seq: number,
): Promise<{ rtt: number; oneWay: number }> {
  await quiet();
  const { sent, back } = await sender.roundTrip(to, seq);
  const echo = await within(echoes.take(), ABORT_LIMIT_MS, `the echo report of ${to}`);
  if (echo.seq !== seq) throw new Error(`bench: ${to} echoed ${echo.seq}, not ${seq}`);
  return { rtt: back - sent, oneWay: echo.at - sent };
}

interface Rig {
  readonly ends: Record<Where, HoldEnd>;
  readonly sender: FloorSender;
  readonly http: HttpFloor;
  /** The floor's B participants, and their reports of each packet's arrival. */
  readonly b: Record<Where, string>;
  readonly echoes: Record<Where, Mailbox<EchoReport>>;
  close(): Promise<void>;
}

/** The providers in serve's room; the floor's A (with its HTTP front) and Bs in a room of theirs. */
async function setUp(world: SfuWorld, child: ChildPeer): Promise<Rig> {
  const { url } = world.server;
  const hereEnd: HoldEnd = { started: new Mailbox(), aborted: new Mailbox() };
  const hereRoom = await world.join(SERVE_ROOM, 'robot-here', 'provider');
  const provider = new ToolProvider({
    tools: [
      holdTool(TOOL.here, {
        started: (report) => hereEnd.started.put(report),
        aborted: (report) => hereEnd.aborted.put(report),
      }),
    ],
  });
  await provider.connect(rtcProviderChannel(hereRoom));
  const token = await world.providerToken('robot-child');
  await child.command({ type: 'provider', url, token, tool: TOOL.child });
  for (const where of WHERE)
    await world.serve.proxy.waitForTool(TOOL[where], { signal: AbortSignal.timeout(10_000) });

  const a = await world.join(FLOOR_ROOM, 'floor-a', 'agent');
  const hereEcho = echoMailbox();
  answerEchoes(await world.join(FLOOR_ROOM, 'floor-here', 'provider'), hereEcho.report);
  const echoToken = await world.providerToken('floor-child', FLOOR_ROOM);
  await child.command({ type: 'echo', url, token: echoToken });
  const b: Record<Where, string> = { here: 'floor-here', child: 'floor-child' };
  await knows(a, [b.here, b.child]);
  const http = await startHttpFloor(a);
  return {
    ends: { here: hereEnd, child },
    sender: new FloorSender(a),
    http,
    b,
    echoes: { here: hereEcho.box, child: child.echoed },
    close: async () => {
      await http.close();
      await provider.close();
    },
  };
}

async function httpFloorOnce(rig: Rig, where: Where, seq: number): Promise<number> {
  await quiet();
  const body = rig.http.body(seq, rig.b[where]);
  const sent = monotonicMs();
  const answer = rig.http.poster.post('/', body);
  const echo = await within(rig.echoes[where].take(), ABORT_LIMIT_MS, `the packet of ${seq}`);
  if (echo.seq !== seq) throw new Error(`bench: ${rig.b[where]} got ${echo.seq}, not ${seq}`);
  if ((await answer).status !== 200) throw new Error('bench: the HTTP floor did not answer 200');
  return echo.at - sent;
}

type Kind = 'stop' | 'http' | 'floor';
const KINDS: readonly Kind[] = ['stop', 'http', 'floor'];

export async function runLatency(
  world: SfuWorld,
  child: ChildPeer,
  options: LatencyOptions,
): Promise<LatencySamples> {
  const rig = await setUp(world, child);
  const samples: LatencySamples = {
    stop: { here: [], child: [] },
    http: { here: [], child: [] },
    floor: { here: { rtt: [], oneWay: [] }, child: { rtt: [], oneWay: [] } },
  };
  const wanted = (kind: Kind) => (kind === 'floor' ? options.roundTrips : options.stops);
  const taken = (kind: Kind, where: Where) =>
    kind === 'floor' ? samples.floor[where].rtt.length : samples[kind][where].length;
  let step = 0;
  const once = async (kind: Kind, where: Where, measured: boolean) => {
    if (kind === 'floor') {
      const { rtt, oneWay } = await floorOnce(rig.sender, rig.b[where], rig.echoes[where], step++);
      if (!measured) return;
      samples.floor[where].rtt.push(rtt);
      samples.floor[where].oneWay.push(oneWay);
      return;
    }
    const ms =
      kind === 'stop'
        ? await stopOnce(world, rig.ends[where], TOOL[where], step++)
        : await httpFloorOnce(rig, where, step++);
    if (measured) samples[kind][where].push(ms);
  };
  const paths = WHERE.flatMap((where) => KINDS.map((kind) => ({ kind, where })));
  try {
    for (const { kind, where } of paths) {
      const warmups = kind === 'floor' ? options.floorWarmups : options.stopWarmups;
      for (let i = 0; i < warmups; i++) await once(kind, where, false);
    }
    // Floor round trips are many and short: each turn of a stop comes with a batch of them.
    const batch = Math.max(1, Math.ceil(options.roundTrips / Math.max(1, options.stops)));
    const done = () => paths.every(({ kind, where }) => taken(kind, where) >= wanted(kind));
    for (let turnIndex = 0; !done(); turnIndex++) {
      for (let k = 0; k < paths.length; k++) {
        const { kind, where } = paths[(k + turnIndex) % paths.length] as (typeof paths)[number];
        for (let i = 0; i < (kind === 'floor' ? batch : 1); i++)
          if (taken(kind, where) < wanted(kind)) await once(kind, where, true);
      }
    }
  } finally {
    await rig.close();
  }
  return samples;
}
