/**
 * What the Claude Code real-peer tests run against: `toolproxy serve` in-process on a free
 * loopback port with a provider (over the WebSocket bridge) whose one tool, `slow_job`, takes as
 * long as it is asked and stops when told; the mock Messages API scripting each turn (ToolSearch,
 * then the tool, then text); and a project folder set up the way examples/claude-code/README.md
 * tells a user: its `.mcp.json` at the root and its `settings.json` as `.claude/settings.json`,
 * the port changed from 7300 to serve's. Claude Code runs with a throwaway HOME, the mock as its
 * API and the egress trap as its proxy (claude-code-egress.ts).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallInfo, CancelReason, CallOutcome } from '../../src/index.js';
import {
  blocks,
  type MockAnthropic,
  type MessagesRequest,
  searchThenUse,
  startMockAnthropic,
} from '../support/mock-anthropic.js';
import type { InstalledPeer } from '../support/mcp-peers.js';
import { type EgressTrap, startEgressTrap } from './claude-code-egress.js';
import { type PeerRun, startPeer } from './peer-process.js';
import { type ServedProvider, serveWithProvider } from './serve-with-provider.js';
import { pause, type WireTool } from './wire-provider.js';

export const TOOL = 'slow_job';
/** The tool as Claude Code names it: server `toolproxy` of the example's `.mcp.json`. */
export const MCP_TOOL = `mcp__toolproxy__${TOOL}`;
const EXAMPLE = fileURLToPath(new URL('../../examples/claude-code/', import.meta.url));
/** The address the example files name, which the README tells a user to change for another port. */
const DEFAULT_ADDRESS = '127.0.0.1:7300';
/** Any key: the mock does not check it. The last 20 characters are what Claude Code remembers. */
export const API_KEY = 'sk-ant-api03-toolproxy-mock-key-0000';

/** Wall-clock milliseconds with a fraction: comparable with Claude Code's debug-log times. */
export const clock = (): number => performance.timeOrigin + performance.now();

/** One run of `slow_job` as the provider saw it. */
export interface JobRun {
  readonly callId: string;
  readonly label: string;
  readonly startedAt: number;
  /** When the provider was told to stop (its signal aborted). */
  abortedAt?: number;
}

export interface SettledCall extends CallInfo {
  readonly outcome: CallOutcome;
  readonly reason: CancelReason | undefined;
  readonly at: number;
}

export interface ClaudeWorld {
  readonly served: ServedProvider;
  readonly mock: MockAnthropic;
  readonly trap: EgressTrap;
  /** The project Claude Code runs in. */
  readonly project: string;
  /** Where per-run files go (debug logs). */
  readonly scratch: string;
  readonly jobs: JobRun[];
  readonly settled: SettledCall[];
  /** `session:end` events serve applied (Claude Code's SessionEnd hook), by session. */
  readonly sessionEnds: Array<{ readonly session: string | undefined; readonly at: number }>;
  /** Claude Code's whole environment. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** The prompt that makes the mock call `slow_job` with these arguments. */
  prompt(label: string, seconds: number): string;
  /**
   * `claude -p PROMPT --output-format stream-json --verbose --allowedTools mcp__toolproxy__slow_job`
   * (`allowed`: what --allowedTools names instead; none: no flag).
   */
  print(label: string, seconds: number, allowed?: readonly string[]): PeerRun;
  /** The debug log of the run with `label` (`--debug-file`). */
  debugLog(label: string): string;
  /** Claude Code's session id for the run labelled `label`, from its requests to the model. */
  sessionOf(label: string): string;
  /** Resolves with the provider's run of the job labelled `label` once it has started. */
  job(label: string, timeoutMs?: number): Promise<JobRun>;
  /** Resolves once serve has settled the call `callId`. */
  settledCall(callId: string, timeoutMs?: number): Promise<SettledCall>;
  close(): Promise<void>;
}

const ARGS = /toolproxy-test-args=(\{[^}]*\})/;

/** The job arguments the prompt of this conversation carries. */
export function promptArgs(request: MessagesRequest): Record<string, unknown> {
  for (const block of blocks(request)) {
    const match = block.role === 'user' && block.type === 'text' && ARGS.exec(String(block.text));
    if (match) return JSON.parse(match[1]!) as Record<string, unknown>;
  }
  return { label: 'unlabelled', seconds: 1 };
}

/** Copies the example into `project` as its README says, for serve at `address`. */
function installExample(project: string, address: string): void {
  const copy = (name: string, to: string) => {
    const text = readFileSync(join(EXAMPLE, name), 'utf8');
    if (!text.includes(DEFAULT_ADDRESS))
      throw new Error(`examples/claude-code/${name} no longer names ${DEFAULT_ADDRESS}`);
    writeFileSync(to, text.replaceAll(DEFAULT_ADDRESS, address));
  };
  mkdirSync(join(project, '.claude'), { recursive: true });
  copy('.mcp.json', join(project, '.mcp.json'));
  copy('settings.json', join(project, '.claude', 'settings.json'));
}

/**
 * A HOME as a user's is after Claude Code's first run: onboarding done (its first screen checks
 * that api.anthropic.com is reachable) and the API key accepted. Folder trust and the project's
 * MCP server are left to the prompts, as for a user.
 */
export function seedHome(home: string): void {
  mkdirSync(home, { recursive: true });
  writeFileSync(
    join(home, '.claude.json'),
    `${JSON.stringify({
      hasCompletedOnboarding: true,
      customApiKeyResponses: { approved: [API_KEY.slice(-20)], rejected: [] },
    })}\n`,
  );
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `slow_job`: runs for `seconds`, stops at once when the proxy tells it to; each run recorded. */
export function slowJobTool(jobs: JobRun[]): WireTool {
  return {
    name: TOOL,
    description: 'Runs a slow job for `seconds` seconds and says which one finished',
    inputSchema: {
      type: 'object',
      properties: { label: { type: 'string' }, seconds: { type: 'number' } },
      required: ['label', 'seconds'],
    },
    run: async (call) => {
      const job: JobRun = {
        callId: call.callId,
        label: String(call.arguments.label),
        startedAt: clock(),
      };
      jobs.push(job);
      call.signal.addEventListener('abort', () => (job.abortedAt = clock()), { once: true });
      await pause(Number(call.arguments.seconds) * 1000, call.signal);
      return { result: { finished: job.label } };
    },
  };
}

/** The prompt that makes the mock call `slow_job` with these arguments. */
export const promptFor = (label: string, seconds: number): string =>
  `Run ${TOOL}. toolproxy-test-args=${JSON.stringify({ label, seconds })}`;

/**
 * Claude Code's whole environment: the throwaway HOME and TMPDIR, the mock as its API, the trap
 * as its proxy (its `ssh` first on PATH), no non-essential traffic.
 */
export function claudeEnv(
  paths: { home: string; temp: string; modelUrl: string; trap: EgressTrap },
  extra: Record<string, string> = {},
): Record<string, string> {
  const { home, temp, modelUrl, trap } = paths;
  return {
    PATH: `${trap.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: home,
    TMPDIR: temp,
    ANTHROPIC_BASE_URL: modelUrl,
    ANTHROPIC_API_KEY: API_KEY,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    // Else the first interactive start clones the official plugin marketplace from GitHub.
    CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL: '1',
    HTTPS_PROXY: trap.proxyUrl,
    HTTP_PROXY: trap.proxyUrl,
    NO_PROXY: '127.0.0.1,localhost,::1',
    ...extra,
  };
}

/** `-p PROMPT --output-format stream-json --verbose [--allowedTools …] --debug-file LOG` */
export function printArgs(prompt: string, allowed: readonly string[], debugLog: string): string[] {
  return [
    '-p',
    prompt,
    '--output-format',
    'stream-json',
    '--verbose',
    ...(allowed.length === 0 ? [] : ['--allowedTools', ...allowed]),
    '--debug-file',
    debugLog,
  ];
}

export async function startClaudeWorld(claude: InstalledPeer): Promise<ClaudeWorld> {
  const scratch = mkdtempSync(join(tmpdir(), 'toolproxy-claude-'));
  const project = join(scratch, 'project');
  const home = join(scratch, 'home');
  const temp = join(scratch, 'tmp');
  mkdirSync(temp, { recursive: true });
  seedHome(home);
  const jobs: JobRun[] = [];
  const settled: SettledCall[] = [];
  const sessionEnds: ClaudeWorld['sessionEnds'] = [];
  const served = await serveWithProvider([slowJobTool(jobs)], 'claude-code-provider');
  const { hooks } = served.serve.proxy;
  hooks.on('call:settled', (event) => settled.push({ ...event, at: clock() }));
  hooks.on('session:end', (event) => sessionEnds.push({ session: event.session_key, at: clock() }));
  installExample(project, new URL(served.serve.url).host);
  const mock = await startMockAnthropic({ reply: searchThenUse(MCP_TOOL, promptArgs) });
  const trap = await startEgressTrap(join(scratch, 'trap'));

  const env = (extra: Record<string, string> = {}) =>
    claudeEnv({ home, temp, modelUrl: mock.baseUrl, trap }, extra);
  const debugLog = (label: string) => join(scratch, `${label}.debug.log`);
  const prompt = promptFor;

  return {
    served,
    mock,
    trap,
    project,
    scratch,
    jobs,
    settled,
    sessionEnds,
    env,
    prompt,
    debugLog,
    print: (label, seconds, allowed = [MCP_TOOL]) =>
      startPeer(claude.path, printArgs(prompt(label, seconds), allowed, debugLog(label)), {
        env: env(),
        cwd: project,
        limitMs: 90_000,
      }),
    sessionOf: (label) => {
      const request = mock.requests.find(
        (entry) => entry.body !== undefined && promptArgs(entry.body).label === label,
      );
      if (request?.session === undefined) throw new Error(`no model request of run "${label}"`);
      return request.session;
    },
    job: (label, timeoutMs = 60_000) =>
      until(`${TOOL} "${label}" started at the provider`, timeoutMs, () =>
        jobs.find((job) => job.label === label),
      ),
    settledCall: (callId, timeoutMs = 10_000) =>
      until(`call ${callId} settled`, timeoutMs, () =>
        settled.find((call) => call.callId === callId),
      ),
    close: async () => {
      await Promise.allSettled([served.close(), mock.close(), trap.close()]);
      // A Claude Code that was just killed may still be writing its session files.
      rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

function debugLines(debugLog: string): string[] {
  try {
    return readFileSync(debugLog, 'utf8').split('\n');
  } catch {
    return [];
  }
}

const stampOf = (line: string | undefined) =>
  line === undefined ? undefined : Date.parse(line.split(' ', 1)[0] ?? '');

const postsHook = (line: string, event: string) =>
  line.includes('HTTP hook POST to ') && line.endsWith(`/hooks/${event}`);

/** When Claude Code began posting hook `event` (its debug log's time), if it did. */
export function hookPostedAt(debugLog: string, event: string): number | undefined {
  return stampOf(debugLines(debugLog).find((line) => postsHook(line, event)));
}

/** From posting hook `event` to reading serve's answer, by Claude Code's debug log, if it did. */
export function hookRoundTrip(debugLog: string, event: string): number | undefined {
  const lines = debugLines(debugLog);
  const posted = lines.findIndex((line) => postsHook(line, event));
  if (posted < 0) return undefined;
  const answered = lines.slice(posted).find((line) => line.includes('HTTP hook response status'));
  const [start, end] = [stampOf(lines[posted]), stampOf(answered)];
  return start === undefined || end === undefined ? undefined : end - start;
}

/** The JSON lines of `--output-format stream-json`. */
export function streamEvents(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
