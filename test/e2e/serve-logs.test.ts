/**
 * `serve`'s logs as people and services see them: JSON lines when stderr is a pipe (a service, a
 * log collector), readable lines at a terminal (run under a real pseudo-terminal with `script`),
 * and either on request with `--log-format`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'toolproxy.mjs');
/** No signing key: serve logs one info line about the development pair it made. */
const env = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/tmp',
  NODE_ENV: 'production',
};
const MARK = 'no signing key set';
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Runs `command`, collects `stream` until it holds MARK, then SIGTERMs it; resolves with the text. */
function logsOf(command: string, args: string[], stream: 'stdout' | 'stderr'): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env });
    children.push(child);
    let text = '';
    child[stream]?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes(MARK) && text.endsWith('\n')) child.kill('SIGTERM');
    });
    child.on('error', reject);
    child.on('exit', () => resolve(text));
  });
}

const serveArgs = (...extra: string[]) => [bin, 'serve', '--port', '0', ...extra];

describe('serve logs', { timeout: 30_000 }, () => {
  it('to a pipe: JSON lines', async () => {
    const text = await logsOf(process.execPath, serveArgs(), 'stderr');
    const lines = text.trim().split('\n');
    const parsed = lines.map((line) => JSON.parse(line) as { msg?: string; name?: string });
    expect(parsed.find((entry) => entry.msg?.includes(MARK))).toMatchObject({ name: 'toolproxy' });
  });

  it('to a pipe with --log-format pretty: readable lines', async () => {
    const text = await logsOf(process.execPath, serveArgs('--log-format', 'pretty'), 'stderr');
    const line = text.split('\n').find((candidate) => candidate.includes(MARK));
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: no signing key set/);
    expect(text).not.toMatch(/^\{/m);
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)('at a terminal (a real pseudo-terminal): readable lines', async () => {
    const command = [process.execPath, ...serveArgs()].map((part) => `'${part}'`).join(' ');
    // `script` gives the command a pty for stdin, stdout and stderr, and copies it to its stdout.
    const text = await logsOf('script', ['-qfec', command, '/dev/null'], 'stdout');
    const line = text.split('\n').find((candidate) => candidate.includes(MARK));
    expect(line).toMatch(/INFO/);
    expect(line).not.toMatch(/"level"/);
  });

  it('an unknown --log-format is an error naming the choices', () => {
    const result = spawnSync(process.execPath, serveArgs('--log-format', 'xml'), {
      cwd: root,
      env,
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/--log-format must be json, pretty, auto, not xml/);
  });
});
