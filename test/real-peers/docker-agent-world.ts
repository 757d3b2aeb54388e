/**
 * What the docker-agent real-peer tests drive: `toolproxy serve` in-process with a provider whose
 * `move_arm` tool takes as long as its `duration_ms` (stopping at once when the proxy cancels it),
 * the mock OpenAI-compatible model server, and the shipped examples/docker-agent/agent.yaml with
 * the model and serve's address changed the way the example's README tells a user to. Every call,
 * its settlement and each lifecycle event serve applies are timestamped (`performance.now()`),
 * so a test can measure from the interrupt to the provider's abort.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { CancelReason, LifecycleEventName } from '../../src/index.js';
import { type MockOpenAi, type ScriptedReply, startMockOpenAi } from '../support/mock-openai.js';
import type { ChatRequest } from '../support/mock-openai.js';
import { type PeerRun, startPeer } from './peer-process.js';
import { type ServedProvider, serveWithProvider } from './serve-with-provider.js';
import { pause, type WireTool } from './wire-provider.js';

export const EXAMPLE = fileURLToPath(
  new URL('../../examples/docker-agent/agent.yaml', import.meta.url),
);
export const TOOL = 'move_arm';

export interface ToolRunRecord {
  readonly callId: string;
  readonly arguments: Record<string, unknown>;
  readonly startedAt: number;
  /** When the proxy told the provider to stop this call. */
  stoppedAt?: number;
}

export interface Settlement {
  readonly callId: string;
  readonly sessionKey: string | undefined;
  readonly outcome: string;
  readonly reason: CancelReason | undefined;
  readonly at: number;
}

export interface LifecycleRecord {
  readonly name: LifecycleEventName;
  readonly session: string | undefined;
  readonly at: number;
}

export interface DockerAgentWorld {
  readonly served: ServedProvider;
  readonly model: MockOpenAi;
  readonly runs: ToolRunRecord[];
  readonly settled: Settlement[];
  readonly lifecycle: LifecycleRecord[];
  /** The adapted agent.yaml, in a scratch folder of its own. */
  readonly configPath: string;
  close(): Promise<void>;
}

/** The move_arm provider: answers `{at: [x, y]}` after `duration_ms`, or stops when told. */
export function armTool(runs: ToolRunRecord[]): WireTool {
  return {
    name: TOOL,
    description: 'Moves the robot arm to (x, y); takes duration_ms milliseconds',
    inputSchema: {
      type: 'object',
      properties: {
        x: { type: 'number' },
        y: { type: 'number' },
        duration_ms: { type: 'number' },
      },
      required: ['x', 'y', 'duration_ms'],
    },
    run: async (call) => {
      const record: ToolRunRecord = {
        callId: call.callId,
        arguments: call.arguments,
        startedAt: performance.now(),
      };
      runs.push(record);
      call.signal.addEventListener('abort', () => (record.stoppedAt = performance.now()), {
        once: true,
      });
      await pause(Number(call.arguments.duration_ms), call.signal);
      return { result: { at: [call.arguments.x, call.arguments.y] } };
    },
  };
}

/**
 * The example as a user adapts it (README: "Another model", "Another port"): a `models:` entry
 * for an OpenAI-compatible endpoint, the agent's `model:` naming it, and the toolset's URL on
 * serve's port. The hooks are kept exactly as shipped; TOOLPROXY_URL gives them serve's address.
 */
export function adaptExample(
  modelBaseUrl: string,
  mcpUrl: string,
  options: WorldOptions = {},
): string {
  const config = parseYaml(readFileSync(EXAMPLE, 'utf8')) as {
    models?: Record<string, unknown>;
    agents: {
      root: {
        model: string;
        toolsets: { remote: { url: string } }[];
        hooks: Record<string, unknown>;
      };
    };
  };
  if (options.withoutPreToolUse === true) delete config.agents.root.hooks.pre_tool_use;
  config.models = {
    mock: {
      provider: 'openai',
      model: 'mock-model',
      base_url: modelBaseUrl,
      token_key: 'MOCK_KEY',
    },
  };
  config.agents.root.model = 'mock';
  for (const toolset of config.agents.root.toolsets) toolset.remote.url = mcpUrl;
  return stringifyYaml(config);
}

export interface WorldOptions {
  /** Drops the example's pre_tool_use hook (to show what it is for). */
  withoutPreToolUse?: boolean;
}

export async function startWorld(
  reply: (request: ChatRequest, index: number) => ScriptedReply,
  options: WorldOptions = {},
): Promise<DockerAgentWorld> {
  const runs: ToolRunRecord[] = [];
  const settled: Settlement[] = [];
  const lifecycle: LifecycleRecord[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'toolproxy-docker-agent-'));
  const model = await startMockOpenAi({ reply });
  let served: ServedProvider;
  try {
    served = await serveWithProvider([armTool(runs)], 'docker-agent-arm');
  } catch (error) {
    await model.close();
    throw error;
  }
  const { hooks } = served.serve.proxy;
  const unsubscribe = [
    hooks.on('call:settled', (event) =>
      settled.push({
        callId: event.callId,
        sessionKey: event.sessionKey,
        outcome: event.outcome,
        reason: event.reason,
        at: performance.now(),
      }),
    ),
    ...(['agent_loop_stopped', 'session:end', 'session:start', 'stop'] as const).map((name) =>
      hooks.on(name, (event) =>
        lifecycle.push({ name, session: event.session_key, at: performance.now() }),
      ),
    ),
  ];
  const configPath = join(scratch, 'agent.yaml');
  writeFileSync(configPath, adaptExample(model.baseUrl, served.mcpUrl, options));
  return {
    served,
    model,
    runs,
    settled,
    lifecycle,
    configPath,
    close: async () => {
      for (const off of unsubscribe) off();
      await served.close();
      await model.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/**
 * `docker-agent run --exec --yolo agent.yaml MESSAGE` (one turn, no TUI, tools approved), with a
 * throwaway HOME (its session database and caches), telemetry off, the model's key, and serve's
 * address for the hooks. Nothing else is inherited.
 */
export function runDockerAgent(
  bin: string,
  world: DockerAgentWorld,
  home: string,
  message: string,
  limitMs = 120_000,
): PeerRun {
  return startPeer(bin, ['run', '--exec', '--yolo', world.configPath, message], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      TELEMETRY_ENABLED: 'false',
      MOCK_KEY: 'mock-key',
      TOOLPROXY_URL: world.served.serve.url,
    },
    cwd: home,
    limitMs,
  });
}

/** Resolves once `check` returns a value (polled every 20 ms), rejecting past `limitMs`. */
export async function until<T>(
  what: string,
  check: () => T | undefined,
  limitMs = 60_000,
): Promise<T> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
