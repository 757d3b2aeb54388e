/**
 * hermes-agent: `invoke_hook('agent_loop_stopped', …)` (what hermes' gateway runs on `/stop`)
 * through hermes' own plugin loader with the shipped plugin (examples/hermes), as
 * test/real-peers/hermes-agent.test.ts sets it up: the driver (hermes_agent_driver.py) makes each
 * round's call as later hermes does with `forward_hermes_context`, in a chat of its own, then fires
 * the hook for that chat. The interrupt is the bench writing the stop command to the driver; the
 * split adds command → invoke_hook (the driver's CLOCK_MONOTONIC, the same as `process.hrtime`).
 */
import { z } from 'zod';
import type { InstalledPeer } from '../../support/mcp-peers.js';
import { HermesDriver, hermesHome, Loaded, Stopped } from '../../real-peers/hermes-agent-driver.js';
import { serveWithProvider } from '../../real-peers/serve-with-provider.js';
import { pause, type WireTool } from '../../real-peers/wire-provider.js';
import { monotonicMs } from '../stats.js';
import { type AgentCaseResult, type StopRound, waitFor } from './rounds.js';

const StoppedAt = Stopped.extend({ invoked_mono_ms: z.number() });

interface JobRecord {
  readonly callId: string;
  abortAt?: number;
}

interface SettledRecord {
  readonly reason: string | undefined;
  readonly at: number;
}

export async function hermesCase(
  peer: InstalledPeer,
  rounds: number,
  log: (message: string) => void,
): Promise<AgentCaseResult> {
  const jobs = new Map<string, JobRecord>();
  const slow: WireTool = {
    name: 'slow_job',
    description: 'Works until stopped',
    inputSchema: { type: 'object', properties: { job: { type: 'string' } }, required: ['job'] },
    run: async (call) => {
      const record: JobRecord = { callId: call.callId };
      jobs.set(String(call.arguments.job), record);
      call.signal.addEventListener('abort', () => (record.abortAt = performance.now()), {
        once: true,
      });
      await pause(60_000, call.signal);
      return { result: 'finished' };
    },
  };
  const served = await serveWithProvider([slow], 'bench-hermes');
  const settled = new Map<string, SettledRecord>();
  const off = served.serve.proxy.hooks.on('call:settled', (event) => {
    if (event.outcome === 'cancelled')
      settled.set(event.callId, { reason: event.reason, at: performance.now() });
  });
  const home = hermesHome(served.mcpUrl, { TOOLPROXY_URL: served.serve.url });
  let hermes: HermesDriver | undefined;
  try {
    hermes = await HermesDriver.start(peer.path, home.path, {});
    const loaded = Loaded.parse(await hermes.request('load', { add_agent_loop_stopped: true }));
    if (!loaded.enabled || !loaded.hooks.includes('agent_loop_stopped'))
      throw new Error(
        `bench: hermes did not load the plugin's stop hook: ${JSON.stringify(loaded)}`,
      );
    const tools = (await hermes.request('mcp')).tools;
    if (!Array.isArray(tools) || !tools.includes('mcp__toolproxy__slow_job'))
      throw new Error(`bench: hermes' MCP client did not list slow_job: ${JSON.stringify(tools)}`);

    const measured: StopRound[] = [];
    for (let round = 0; round < rounds; round++) {
      const job = `job-${round}`;
      const chat = `chat-${round}`;
      const call = await hermes.call(
        'slow_job',
        { job },
        { session_key: chat, session_id: `${chat}-session`, platform: 'telegram' },
      );
      const record = await waitFor(`${job} to reach the provider`, () => jobs.get(job));
      const interruptAt = performance.now();
      const monoOffset = monotonicMs() - interruptAt;
      const answer = hermes.request('stop', {
        kwargs: {
          session_key: chat,
          platform: 'telegram',
          reason: 'Stop requested',
          invalidation_reason: 'stop_command',
        },
      });
      const abortAt = await waitFor(`${job}'s abort`, () => record.abortAt, 10_000);
      const stopped = StoppedAt.parse(await answer);
      const serve = await waitFor(`${job} settled`, () => settled.get(record.callId));
      const result = await call.result;
      if (typeof result !== 'object' || !('is_error' in result) || !result.is_error)
        throw new Error(
          `bench: hermes' stopped call did not end in an error: ${JSON.stringify(result)}`,
        );
      const invokedAt = stopped.invoked_mono_ms - monoOffset;
      measured.push({
        interruptAt,
        serveAt: serve.at,
        abortAt,
        reason: serve.reason ?? 'none',
        extra: {
          'command → invoke_hook': invokedAt - interruptAt,
          'invoke_hook → serve': serve.at - invokedAt,
          'invoke_hook returned in': stopped.hook_us / 1_000,
        },
      });
      log(`hermes round ${round + 1}/${rounds}: ${(abortAt - interruptAt).toFixed(1)} ms`);
    }
    return {
      id: 'hermes-invoke-hook',
      label: "hermes-agent: invoke_hook('agent_loop_stopped') → provider abort",
      peer: `${peer.package}@${peer.version}`,
      rounds: measured,
    };
  } finally {
    off();
    await hermes?.close();
    home.remove();
    await served.close();
  }
}
