/**
 * examples/claude-code/README.md followed by a user who installed toolproxy from its tarball: the
 * tarball `npm pack` made installed in a project (test/support/installed-toolproxy.ts), `serve`
 * started from that project's `node_modules/.bin/toolproxy`, the README's set-up and "Another
 * port" commands run as written with bash in the project (copying the files from
 * `node_modules/toolproxy/examples/claude-code`, changing the port), then the real Claude Code in
 * it against the mock Messages API, calling a provider's slow tool and interrupted mid-call.
 * Nothing here is taken from the source checkout but the README's text.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installedToolproxy, consumerProject } from '../support/installed-toolproxy.js';
import {
  type MockAnthropic,
  searchThenUse,
  startMockAnthropic,
} from '../support/mock-anthropic.js';
import { mcpPeerGate, type InstalledPeer } from '../support/mcp-peers.js';
import { measured } from '../support/measured.js';
import { countRealPeerTests } from '../support/peer-count.js';
import { type EgressTrap, startEgressTrap } from './claude-code-egress.js';
import {
  claudeEnv,
  clock,
  type JobRun,
  MCP_TOOL,
  printArgs,
  promptArgs,
  promptFor,
  seedHome,
  slowJobTool,
  streamEvents,
} from './claude-code-world.js';
import {
  exampleReadme,
  hookAccepted,
  type InstalledServe,
  onPort,
  readmeBlock,
  runSteps,
  serveInstalled,
  setUpSteps,
} from './installed-serve.js';
import { killAll, type PeerRun, startPeer } from './peer-process.js';

const gate = mcpPeerGate('Claude Code, installed from the tarball', ['claude-code']);
/** The port the README's "Another port" uses as its example. */
const README_OTHER_PORT = '7301';

describe.skipIf(gate.skip)('examples/claude-code/README.md, toolproxy from its tarball', () => {
  countRealPeerTests('Claude Code (tarball)');
  let claude: InstalledPeer;
  let scratch: string;
  let project: string;
  let home: string;
  let temp: string;
  let serve: InstalledServe;
  let mock: MockAnthropic;
  let trap: EgressTrap;
  const jobs: JobRun[] = [];

  beforeAll(async () => {
    claude = gate.peers()['claude-code'];
    const installed = await installedToolproxy();
    scratch = mkdtempSync(join(tmpdir(), 'toolproxy-claude-installed-'));
    project = consumerProject(installed, join(scratch, 'your-project'));
    home = join(scratch, 'home');
    temp = join(scratch, 'tmp');
    mkdirSync(temp, { recursive: true });
    seedHome(home);
    const shell = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home };

    const readme = exampleReadme('claude-code');
    // "Set up": install and serve (the test's own steps), then the files, in the project.
    const setUp = setUpSteps(readmeBlock(readme, /toolproxy serve/), installed);
    expect(setUp.install).toHaveLength(1);
    expect(setUp.script.trim()).toBe('');
    runSteps(readmeBlock(readme, /cp "\$EXAMPLE\/\.mcp\.json"/), project, shell);
    serve = await serveInstalled(project, home, setUp.serveArgs, [slowJobTool(jobs)], 'claude');
    runSteps(
      onPort(readmeBlock(readme, /^sed -i/m), README_OTHER_PORT, serve.port),
      project,
      shell,
    );

    mock = await startMockAnthropic({ reply: searchThenUse(MCP_TOOL, promptArgs) });
    trap = await startEgressTrap(join(scratch, 'trap'));
  }, 300_000);

  afterEach(() => {
    killAll();
    expect(trap.attempts(), 'Claude Code tried to reach beyond loopback').toEqual([]);
  });

  afterAll(async () => {
    await Promise.allSettled([serve?.close(), mock?.close(), trap?.close()]);
    if (scratch !== undefined)
      rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  /** The README's `claude -p … --allowedTools mcp__toolproxy` (every toolproxy tool) in the project. */
  const print = (label: string, seconds: number): PeerRun =>
    startPeer(
      claude.path,
      printArgs(promptFor(label, seconds), ['mcp__toolproxy'], join(scratch, `${label}.log`)),
      {
        env: claudeEnv({ home, temp, modelUrl: mock.baseUrl, trap }),
        cwd: project,
        limitMs: 90_000,
      },
    );

  const job = async (label: string): Promise<JobRun> => {
    await expect
      .poll(() => jobs.find((entry) => entry.label === label), { timeout: 60_000 })
      .toBeDefined();
    const found = jobs.find((entry) => entry.label === label);
    if (found === undefined) throw new Error(`slow_job "${label}" never reached the provider`);
    return found;
  };

  it("copies the two files out of node_modules/toolproxy and points both at serve's port", () => {
    for (const file of ['.mcp.json', join('.claude', 'settings.json')]) {
      const text = readFileSync(join(project, file), 'utf8');
      expect(text, file).toContain(`127.0.0.1:${serve.port}/`);
      expect(text, file).not.toContain('127.0.0.1:7300');
    }
  });

  it('claude -p calls the provider behind the installed serve; the PreToolUse and SessionEnd hooks reach it', async () => {
    const run = print('listed', 0.2);
    const exit = await run.exited;
    expect(exit, exit.stderr).toMatchObject({ code: 0 });
    const events = streamEvents(exit.stdout);
    expect(events.find((event) => event.subtype === 'init')).toMatchObject({
      mcp_servers: [expect.objectContaining({ name: 'toolproxy', status: 'connected' })],
    });
    expect(events.at(-1)).toMatchObject({ type: 'result', subtype: 'success' });
    expect(String(events.at(-1)?.result)).toContain('{"finished":"listed"}');
    expect(serve.provider.calls).toContainEqual(
      expect.objectContaining({ name: 'slow_job', arguments: { label: 'listed', seconds: 0.2 } }),
    );
    await serve.logged(hookAccepted('PreToolUse'));
    await serve.logged(hookAccepted('SessionEnd'));
  }, 120_000);

  it('SIGINT to claude -p mid-call: the provider is told to stop (agent:tool-call-cancelled)', async (context) => {
    const run = print('interrupted', 25);
    const running = await job('interrupted');
    const sentAt = clock();
    run.child.kill('SIGINT');
    await expect.poll(() => running.abortedAt, { timeout: 10_000 }).toBeDefined();
    expect(serve.provider.stopped).toContain(running.callId);
    await run.exited;
    await measured(
      context,
      `SIGINT → provider abort ${Math.round(running.abortedAt! - sentAt)} ms (serve from the tarball)`,
    );
    expect(running.abortedAt! - sentAt).toBeLessThan(5_000);
  }, 120_000);
});
