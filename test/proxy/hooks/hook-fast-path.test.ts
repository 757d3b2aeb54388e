/**
 * `toolproxy hook` as agents run it: a real `node bin/toolproxy.mjs hook …` process. It loads
 * nothing but its own two files and node: built-ins (no tsx, no build, none of the CLI's
 * dependencies), and it behaves as the command always has: delivered silently, the secret as a
 * bearer, `--url` over `TOOLPROXY_URL`, and when not delivered exit 0 with one warning line. The
 * curl one-liner the README offers to projects without toolproxy is checked against the ingress.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HookIngress } from '../../../proxy/hooks/index.js';
import { hookEventFromPath } from '../../../proxy/hooks/index.js';
import { observe, setup } from '../../support/harness.js';
import { closeHookServers, listen, recorder } from '../../support/hook-server.js';
import { flush } from '../../support/util.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const BIN = join(root, 'bin', 'toolproxy.mjs');
const hasCurl = spawnSync('curl', ['--version']).status === 0;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

const cleanups: Array<() => void | Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await closeHookServers();
});

/** A port nothing listens on (it was just closed). */
async function closedPort(): Promise<string> {
  const { server, base } = await listen(() => {});
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return base;
}

/** The environment without the proxy's own variables, so each test sets exactly what it means. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(TOOLPROXY|LIVEKIT)_/.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Spawns `command args` with `input` on stdin; asynchronous, so this process's servers answer. */
function runProcess(
  command: string,
  args: readonly string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<Ran> {
  const child = spawn(command, args, { env: options.env ?? cleanEnv(), cwd: root });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(options.input ?? '{}');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function hook(
  args: readonly string[],
  options: { input?: string; env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<Ran> {
  return runProcess(process.execPath, [...(options.nodeArgs ?? []), BIN, 'hook', ...args], {
    ...options,
    env: cleanEnv(options.env),
  });
}

/**
 * `--import` of a module that records into `file` what the process loads: each ES module (through
 * an import hook), and at exit each CommonJS module and Node's own internal modules.
 */
function recordingLoads(file: string): string[] {
  const hooks = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(file)}, 'esm ' + url + '\\n');
  return next(url, context);
}`;
  const register = `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});
process.on('exit', () => {
  const cjs = Object.keys(createRequire(${JSON.stringify(file)})('node:module')._cache);
  const lines = [...cjs.map((path) => 'cjs ' + path), ...process.moduleLoadList.map((name) => 'internal ' + name)];
  appendFileSync(${JSON.stringify(file)}, lines.join('\\n') + '\\n');
});`;
  return ['--import', `data:text/javascript,${encodeURIComponent(register)}`];
}

/** What the `recordingLoads` file says, by kind. */
function loadedBy(file: string): Record<'esm' | 'cjs' | 'internal', string[]> {
  const loaded: Record<'esm' | 'cjs' | 'internal', string[]> = { esm: [], cjs: [], internal: [] };
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const [kind, ...rest] = line.split(' ');
    if (kind === 'esm' || kind === 'cjs' || kind === 'internal') loaded[kind].push(rest.join(' '));
  }
  return loaded;
}

const SESSION_END = JSON.stringify({
  session_id: 'cc-1',
  hook_event_name: 'SessionEnd',
  reason: 'prompt_input_exit',
});

describe('toolproxy hook (the process agents run)', () => {
  it('loads only its own two files and node: built-ins: no tsx, no dist, no dependency, no undici', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toolproxy-hook-loads-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'loaded.txt');
    const { base, received } = await recorder();
    const ran = await hook(['SessionEnd', '--url', base], {
      input: SESSION_END,
      nodeArgs: recordingLoads(file),
    });
    expect(ran).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(received).toHaveLength(1);
    const loaded = loadedBy(file);
    expect(loaded.esm.filter((url) => !url.startsWith('node:'))).toEqual([
      pathToFileURL(BIN).href,
      pathToFileURL(join(root, 'proxy', 'hooks', 'forward-command.mjs')).href,
    ]);
    expect(loaded.cjs).toEqual([]);
    // Nor Node's heavier parts: fetch's undici (also what an ES import of node:http pulls in on
    // Node 22 and 24), and TLS for an http URL.
    expect(loaded.internal.filter((name) => /undici|\b(https|tls)$/.test(name))).toEqual([]);
    expect(loaded.internal).toContain('NativeModule http');
  });

  it('delivers stdin to <--url>/hooks/<event> with TOOLPROXY_HOOK_SECRET as the bearer, silently', async () => {
    const { base, received } = await recorder();
    const ran = await hook(['SessionEnd', '--url', base], {
      input: SESSION_END,
      env: { TOOLPROXY_HOOK_SECRET: 'tok', TOOLPROXY_URL: 'http://127.0.0.1:9' },
    });
    expect(ran).toEqual({ code: 0, stdout: '', stderr: '' });
    const fields = received.map(({ url, authorization, contentType, body }) => ({
      url,
      authorization,
      contentType,
      body,
    }));
    expect(fields).toEqual([
      {
        url: '/hooks/SessionEnd',
        authorization: 'Bearer tok',
        contentType: 'application/json',
        body: SESSION_END,
      },
    ]);
  });

  it('without --url: TOOLPROXY_URL (its path kept), the signing secret as the bearer', async () => {
    const { base, received } = await recorder();
    const ran = await hook(['session:end'], {
      input: '{"session_key":"k"}',
      env: {
        TOOLPROXY_URL: `${base}/prefix`,
        LIVEKIT_API_KEY: 'key',
        LIVEKIT_API_SECRET: 'signing',
      },
    });
    expect(ran).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(received.map((r) => [r.url, r.authorization])).toEqual([
      ['/prefix/hooks/session:end', 'Bearer signing'],
    ]);
  });

  it('a signing secret without its key is not sent; nor is anything when no secret is set', async () => {
    const { base, received } = await recorder();
    await hook(['Stop', '--url', base], { env: { TOOLPROXY_API_SECRET: 'alone' } });
    await hook(['Stop', '--url', base]);
    expect(received.map((r) => r.authorization)).toEqual([undefined, undefined]);
  });

  it('proxy down: exit 0, nothing on stdout, one warning line naming the cause', async () => {
    const base = await closedPort();
    const ran = await hook(['agent_loop_stopped', '--url', base]);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toBe(
      `toolproxy hook: agent_loop_stopped not delivered: the proxy at ${base} could not be reached (ECONNREFUSED)\n`,
    );
  });

  it('a refusal: exit 0 and the status with the ingress reason', async () => {
    const { base } = await recorder(401, { accepted: false, error: 'send the shared secret' });
    const ran = await hook(['Stop', '--url', base]);
    expect(ran).toEqual({
      code: 0,
      stdout: '',
      stderr:
        'toolproxy hook: Stop not delivered: the proxy answered 401: send the shared secret\n',
    });
  });

  it.each([
    [[], 'toolproxy hook: name the event, e.g. `toolproxy hook SessionEnd`\n'],
    [['Stop', '--bogus'], /^toolproxy hook: Unknown option '--bogus'/],
  ])('bad arguments %j: exit 0 with one line, nothing sent', async (args, warning) => {
    const ran = await hook(args);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toMatch(warning);
  });

  it('end to end through HookIngress with a required secret: the SessionEnd cancels the call', async () => {
    const { proxy } = await setup();
    cleanups.push(() => proxy.close());
    const ingress = new HookIngress(proxy, { secret: 's3cret', requireSecret: true });
    const { base } = await listen((request, response) => {
      void ingress.handle(request, response, hookEventFromPath(request.url) ?? '');
    });
    const call = observe(proxy.call('ping', {}, { sessionKey: 'cc-1' }));
    await flush();
    const wrong = await hook(['SessionEnd', '--url', base], {
      input: SESSION_END,
      env: { TOOLPROXY_HOOK_SECRET: 'wrong' },
    });
    expect(wrong.stderr).toMatch(/answered 401: send the shared secret/);
    expect(call.state()).toBe('pending');
    const right = await hook(['SessionEnd', '--url', base], {
      input: SESSION_END,
      env: { TOOLPROXY_HOOK_SECRET: 's3cret' },
    });
    expect(right).toEqual({ code: 0, stdout: '', stderr: '' });
    await expect(call.promise).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'session-ended',
    });
  });
});

/** The README's command for a project without toolproxy installed (run by the agent's shell). */
const curlHook = (base: string, event: string) =>
  `curl -sS -m 1 -f -o /dev/null -H 'content-type: application/json' --data-binary @- ${base}/hooks/${event} || true`;

describe.skipIf(!hasCurl)('the curl one-liner for projects without toolproxy', () => {
  it('is accepted by the ingress and cancels the session; silent on stdout', async () => {
    const { proxy } = await setup();
    cleanups.push(() => proxy.close());
    const ingress = new HookIngress(proxy, { requireSecret: false });
    const { base } = await listen((request, response) => {
      void ingress.handle(request, response, hookEventFromPath(request.url) ?? '');
    });
    const call = observe(proxy.call('ping', {}, { sessionKey: 'cc-1' }));
    await flush();
    const ran = await runProcess('/bin/sh', ['-c', curlHook(base, 'SessionEnd')], {
      input: SESSION_END,
    });
    expect(ran).toEqual({ code: 0, stdout: '', stderr: '' });
    await expect(call.promise).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'session-ended',
    });
  });

  it('proxy down or a refusal: exit 0, nothing on stdout, curl says why on stderr', async () => {
    const down = await runProcess('/bin/sh', ['-c', curlHook(await closedPort(), 'Stop')]);
    expect(down).toMatchObject({ code: 0, stdout: '' });
    expect(down.stderr).toMatch(/^curl: \(7\)/);
    const { base } = await recorder(401, { accepted: false, error: 'send the shared secret' });
    const refused = await runProcess('/bin/sh', ['-c', curlHook(base, 'Stop')]);
    expect(refused).toMatchObject({ code: 0, stdout: '' });
    expect(refused.stderr).toMatch(/^curl: \(22\).*401/);
  });
});
