/**
 * examples/docker-agent/README.md followed by a user who installed toolproxy from its tarball: the
 * tarball `npm pack` made installed in a project (test/support/installed-toolproxy.ts), `serve`
 * started from its `node_modules/.bin/toolproxy` on a port of its own, `agent.yaml` copied out of
 * `node_modules/toolproxy/examples/docker-agent` by the README's command, its model changed to the
 * README's "Another model" entry (pointed at the mock OpenAI-compatible server), and each run the
 * README's "Another port" commands then its `docker-agent run --exec --yolo …` line, with bash in
 * the project. The provider's `move_arm` runs until its duration is up or it is told to stop.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, parseDocument } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { consumerProject, installedToolproxy } from '../support/installed-toolproxy.js';
import { mcpPeerGate } from '../support/mcp-peers.js';
import { measured } from '../support/measured.js';
import { callToolThenAnswer, type MockOpenAi, startMockOpenAi } from '../support/mock-openai.js';
import { countRealPeerTests } from '../support/peer-count.js';
import { armTool, TOOL, type ToolRunRecord, until } from './docker-agent-world.js';
import {
  exampleReadme,
  hookAccepted,
  type InstalledServe,
  onPort,
  readmeBlock,
  runSteps,
  serveInstalled,
  setUpSteps,
  withoutComment,
} from './installed-serve.js';
import { killAll, type PeerRun, startPeer } from './peer-process.js';

const gate = mcpPeerGate('docker-agent, installed from the tarball', ['docker-agent']);
/** The port the README's "Another port" uses as its example. */
const README_OTHER_PORT = '7400';
const ANSWER = 'The arm is at (40, 12).';

interface ModelEntry {
  models: Record<string, { base_url: string; token_key: string }>;
  agents: { root: { model: string } };
}

describe.skipIf(gate.skip)('examples/docker-agent/README.md, toolproxy from its tarball', () => {
  countRealPeerTests('docker-agent (tarball)');
  let scratch: string;
  let project: string;
  let serve: InstalledServe;
  let model: MockOpenAi;
  let shell: Record<string, string>;
  /** The README's `export TOOLPROXY_URL=…` (serve's port), then its `run --exec` line. */
  let runScript: string;
  /** How long the next `move_arm` the mock asks for takes. */
  let duration = 200;
  const runs: ToolRunRecord[] = [];

  beforeAll(async () => {
    const agent = gate.peers()['docker-agent'].path;
    const installed = await installedToolproxy();
    scratch = mkdtempSync(join(tmpdir(), 'toolproxy-docker-agent-installed-'));
    project = consumerProject(installed, join(scratch, 'project'));
    const home = join(scratch, 'home');
    const bin = join(scratch, 'bin');
    mkdirSync(home, { recursive: true });
    mkdirSync(bin, { recursive: true });
    symlinkSync(agent, join(bin, 'docker-agent')); // as installed from a release (step 1)
    model = await startMockOpenAi({
      reply: (request) =>
        callToolThenAnswer(TOOL, { x: 40, y: 12, duration_ms: duration }, ANSWER)(request),
    });

    const readme = exampleReadme('docker-agent');
    const setUp = setUpSteps(readmeBlock(readme, /npm install/), installed);
    expect(setUp.install).toHaveLength(1);
    serve = await serveInstalled(project, home, setUp.serveArgs, [armTool(runs)], 'arm');
    // "Another model": the README's `models:` entry, at the mock, and the agent naming it.
    const entry = parseYaml(readmeBlock(readme, /^models:/m, 'yaml')) as ModelEntry;
    const [name] = Object.keys(entry.models);
    expect(entry.agents.root.model).toBe(name);
    shell = {
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: home,
      TELEMETRY_ENABLED: 'false',
      [entry.models[name!]!.token_key]: 'mock-key',
    };
    runSteps(readmeBlock(readme, /^cp .*agent\.yaml/m), project, shell);
    const file = join(project, 'agent.yaml');
    // Edited as a user would, the file's comments kept.
    const config = parseDocument(readFileSync(file, 'utf8'));
    config.set('models', { [name!]: { ...entry.models[name!]!, base_url: model.baseUrl } });
    config.setIn(['agents', 'root', 'model'], name);
    writeFileSync(file, String(config));

    // "Another port" once; its `export` again in the shell that runs the README's run line.
    const port = onPort(readmeBlock(readme, /^sed -i/m), README_OTHER_PORT, serve.port);
    runSteps(port, project, shell);
    const exports = port.split('\n').filter((line) => line.startsWith('export '));
    expect(exports).toHaveLength(1);
    const run = readmeBlock(readme, /--exec/)
      .split('\n')
      .find((line) => line.includes('--exec'))!;
    runScript = `${exports.join('\n')}\nexec ${withoutComment(run)}`;
  }, 300_000);

  afterEach(() => killAll());
  afterAll(async () => {
    await Promise.allSettled([serve?.close(), model?.close()]);
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  const runAgent = (): PeerRun =>
    startPeer('bash', ['-euo', 'pipefail', '-c', runScript], {
      env: shell,
      cwd: project,
      limitMs: 120_000,
    });

  it("copies agent.yaml out of node_modules/toolproxy and points its toolset at serve's port", () => {
    const text = readFileSync(join(project, 'agent.yaml'), 'utf8');
    expect(text).toContain(`http://127.0.0.1:${serve.port}/mcp`);
    expect(text).not.toContain('127.0.0.1:7300/mcp');
  });

  it("the README's run --exec line: one turn through the installed serve, the hooks reaching it", async () => {
    duration = 200;
    const exit = await runAgent().exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stdout).toContain(ANSWER);
    expect(runs.map((record) => record.arguments)).toEqual([{ x: 40, y: 12, duration_ms: 200 }]);
    // The hooks' curl commands posted to TOOLPROXY_URL, as the README's export set it.
    await serve.logged(hookAccepted('pre_tool_use'));
    await serve.logged(hookAccepted('stop'));
  }, 180_000);

  it('Ctrl+C (SIGINT) in the middle of a call: the provider is told to stop (agent:tool-call-cancelled)', async (context) => {
    duration = 25_000;
    const before = runs.length;
    const run = runAgent();
    const record = await until('the provider to get the call', () => runs[before]);
    const { pid } = run.child;
    if (pid === undefined) throw new Error('docker-agent has no pid');
    const sentAt = performance.now();
    process.kill(-pid, 'SIGINT');
    const stoppedAt = await until(
      'the provider to be told to stop',
      () => record.stoppedAt,
      20_000,
    );
    expect(serve.provider.stopped).toContain(record.callId);
    await run.exited;
    await serve.logged(hookAccepted('session_end'));
    await measured(
      context,
      `SIGINT → provider abort ${(stoppedAt - sentAt).toFixed(0)} ms (serve from the tarball)`,
    );
    expect(stoppedAt - sentAt).toBeLessThan(5_000);
  }, 180_000);
});
