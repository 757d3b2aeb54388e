/**
 * `toolproxy serve` from the built output, as it runs once installed: a copy of the checkout is
 * built (`tsc -p tsconfig.build.json`, then scripts/build-page.mjs), then its `bin/toolproxy.mjs`
 * (which prefers dist/) serves `/healthz` and the browser page with esbuild, a development
 * dependency, absent: nothing is bundled at run time.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const work = mkdtempSync(join(tmpdir(), 'toolproxy-built-'));
const copy = join(work, 'toolproxy');
const children: ChildProcess[] = [];

/** A node_modules of links to the checkout's packages, but for `names`. */
function modulesWithout(names: readonly string[]): string {
  const dir = join(work, 'node_modules-without');
  mkdirSync(dir);
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (names.includes(entry)) continue;
    symlinkSync(join(root, 'node_modules', entry), join(dir, entry));
  }
  return dir;
}

beforeAll(() => {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file !== '' && file !== 'node_modules' && !file.startsWith('node_modules/'));
  for (const file of files) {
    try {
      cpSync(join(root, file), join(copy, file), { recursive: true });
    } catch {
      // A file deleted in the working tree but still tracked: nothing to copy.
    }
  }
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  const build = (args: string[]) => {
    const result = spawnSync(process.execPath, args, { cwd: copy, encoding: 'utf8' });
    expect(result.status, `${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(0);
  };
  build([join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
  build([join('scripts', 'build-page.mjs')]);
  // From here on the copy runs as installed: no esbuild (nor tsx: bin must take dist/).
  rmSync(join(copy, 'node_modules'));
  symlinkSync(modulesWithout(['esbuild', '@esbuild', 'tsx']), join(copy, 'node_modules'));
}, 240_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

it('serves /healthz and the page from dist/, with no bundler installed, and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [join('bin', 'toolproxy.mjs'), 'serve', '--port', '0'], {
    cwd: copy,
    env: { PATH: process.env.PATH ?? '', HOME: work, NODE_ENV: 'production' },
  });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /toolproxy listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${String(code)}: ${stderr}`)));
  });
  const health = (await (await fetch(`${url}/healthz`)).json()) as Record<string, unknown>;
  expect(health).toMatchObject({ status: 'ok', service: 'toolproxy', mode: 'embedded' });
  const page = await fetch(`${url}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toMatch(/<script[^>]+page\.js/);
  const script = await fetch(`${url}/page.js`);
  expect(script.headers.get('content-type')).toMatch(/javascript/);
  expect((await script.text()).length).toBeGreaterThan(10_000);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
}, 60_000);
