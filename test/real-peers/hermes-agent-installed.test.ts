/**
 * examples/hermes/README.md's Install steps followed by a user who installed toolproxy from its
 * tarball: the tarball `npm pack` made installed in a directory (test/support/installed-toolproxy.ts),
 * `serve` started from its `node_modules/.bin/toolproxy` on a port of its own, and every ```sh
 * step run as written with bash there, HOME a scratch folder: the plugin's files copied out of
 * `node_modules/toolproxy/examples/hermes` into `~/.hermes/plugins/toolproxy`, the real `hermes
 * plugins enable toolproxy`, the example's config.yaml appended, the "Another port" edits,
 * `hermes plugins list` and `hermes mcp test toolproxy`. Then hermes' own plugin loader and MCP
 * client, in that `~/.hermes` (hermes_agent_driver.py), call a provider's slow tool, and
 * `invoke_hook('agent_loop_stopped', …)` stops it.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerProject, installedToolproxy } from '../support/installed-toolproxy.js';
import { mcpPeerGate } from '../support/mcp-peers.js';
import { measured } from '../support/measured.js';
import { countRealPeerTests } from '../support/peer-count.js';
import { HermesDriver, Loaded, Stopped } from './hermes-agent-driver.js';
import {
  exampleReadme,
  fencedBlocks,
  hookAccepted,
  type InstalledServe,
  onPort,
  type Ran,
  readmeBlock,
  runSteps,
  serveInstalled,
  setUpSteps,
} from './installed-serve.js';
import { pause, type WireTool } from './wire-provider.js';

const gate = mcpPeerGate('hermes-agent, installed from the tarball', ['hermes-agent']);
/** The port the README's "Another port" uses as its example. */
const README_OTHER_PORT = '7400';

describe.skipIf(gate.skip)('examples/hermes/README.md, toolproxy from its tarball', () => {
  countRealPeerTests('hermes-agent (tarball)');
  let scratch: string;
  let home: string;
  let serve: InstalledServe;
  let hermes: HermesDriver;
  /** What `hermes plugins list` and `hermes mcp test` printed (step 7). */
  let checked: Ran;
  /** Epoch ms at which the provider saw each job's call aborted. */
  const aborted = new Map<string, number>();
  const slow: WireTool = {
    name: 'slow_job',
    description: 'Works until stopped',
    inputSchema: { type: 'object', properties: { job: { type: 'string' } }, required: ['job'] },
    run: async (call) => {
      call.signal.addEventListener('abort', () =>
        aborted.set(String(call.arguments.job), performance.timeOrigin + performance.now()),
      );
      await pause(60_000, call.signal);
      return { result: 'finished' };
    },
  };

  beforeAll(async () => {
    const python = gate.peers()['hermes-agent'].path;
    const installed = await installedToolproxy();
    scratch = mkdtempSync(join(tmpdir(), 'toolproxy-hermes-installed-'));
    const dir = consumerProject(installed, join(scratch, 'dir'));
    home = join(scratch, 'home');
    // `hermes` on PATH, as `pip install 'hermes-agent[mcp]'` (step 2) leaves it.
    const bin = join(scratch, 'bin');
    mkdirSync(bin, { recursive: true });
    mkdirSync(home, { recursive: true });
    symlinkSync(join(dirname(python), 'hermes'), join(bin, 'hermes'));
    const shell = { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: home };

    const readme = exampleReadme('hermes');
    const blocks = fencedBlocks(readme);
    const setUp = setUpSteps(readmeBlock(readme, /npm install/), installed);
    expect(setUp.install).toHaveLength(1);
    serve = await serveInstalled(dir, home, setUp.serveArgs, [slow], 'robot');
    // Steps 3 to 6 as written (the port of step 6 being serve's), in order; "no" to step 4's
    // question whether the plugin may replace built-in tools.
    const steps = [
      /cp "\$EX\/__init__\.py"/,
      /hermes plugins enable toolproxy/,
      /examples\/hermes\/config\.yaml >>/,
      /^sed -i/m,
    ].map((pattern) => readmeBlock(readme, pattern));
    const order = steps.map((step) => blocks.indexOf(step));
    expect(order, 'the steps in the README come in this order').toEqual(
      [...order].sort((a, b) => a - b),
    );
    for (const step of steps)
      runSteps(onPort(step, README_OTHER_PORT, serve.port), dir, shell, 'n\n');
    checked = runSteps(readmeBlock(readme, /hermes mcp test toolproxy/), dir, shell);

    hermes = await HermesDriver.start(python, join(home, '.hermes'), { HOME: home });
  }, 300_000);

  afterAll(async () => {
    await hermes?.close();
    await serve?.close();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it('`hermes plugins list` shows the plugin enabled; `hermes mcp test` connects to the installed serve and lists its tool', () => {
    expect(checked.stdout).toMatch(/^enabled\s+user\s+\S+\s+toolproxy$/m);
    expect(checked.stdout).toContain('✓ Connected');
    expect(checked.stdout).toContain('slow_job');
    expect(checked.stdout).toContain(`127.0.0.1:${serve.port}/mcp`);
  });

  it("hermes' loader loads the copied plugin, its MCP client lists the tool, and agent_loop_stopped stops the provider's call", async (context) => {
    const loaded = Loaded.parse(await hermes.request('load', { add_agent_loop_stopped: true }));
    expect(loaded).toMatchObject({ enabled: true, error: null, warnings: [] });
    expect(loaded.hooks).toContain('agent_loop_stopped');
    expect((await hermes.request('mcp')).tools).toContain('mcp__toolproxy__slow_job');

    const call = await hermes.call('slow_job', { job: 'stopped' });
    await expect
      .poll(() => serve.provider.calls.some((entry) => entry.arguments.job === 'stopped'), {
        timeout: 20_000,
      })
      .toBe(true);
    // What hermes' gateway passes on /stop; the plugin posts it to TOOLPROXY_URL from ~/.hermes/.env.
    const stopped = Stopped.parse(
      await hermes.request('stop', {
        kwargs: {
          session_key: 'chat-1',
          platform: 'telegram',
          reason: 'Stop requested',
          invalidation_reason: 'stop_command',
        },
      }),
    );
    await expect.poll(() => aborted.get('stopped'), { timeout: 10_000 }).toBeDefined();
    const callId = serve.provider.calls.find((entry) => entry.arguments.job === 'stopped')?.callId;
    expect(serve.provider.stopped).toContain(callId);
    const result = await call.result;
    expect(typeof result === 'string' && JSON.parse(result)).toMatchObject({
      error: expect.stringMatching(/cancel/i),
    });
    await serve.logged(hookAccepted('agent_loop_stopped'));
    const latency = aborted.get('stopped')! - stopped.invoked_at_ms;
    await measured(
      context,
      `invoke_hook(agent_loop_stopped) → provider abort ${latency.toFixed(1)} ms (serve from the tarball)`,
    );
    expect(latency).toBeLessThan(2_000);
  }, 120_000);
});
