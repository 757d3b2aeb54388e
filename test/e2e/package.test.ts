/**
 * toolproxy as npm ships it. A copy of the checkout is packed (`npm pack`, whose `prepack` builds;
 * test/support/installed-toolproxy.ts, which keeps one pack per content of the sources), the
 * tarball is checked by publint and are-the-types-wrong, then installed into a fresh project
 * with its production dependencies only and used there as a user would: the CLI, every entry point
 * from plain Node ESM, and strict TypeScript consumers (node16, nodenext, bundler). The packed
 * copy's own `bin/toolproxy.mjs`, once built, serves with no bundler and no tsx installed.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedToolproxy, installTarball, ROOT } from '../support/installed-toolproxy.js';
import {
  modulesWithout,
  npm,
  type Ran,
  run,
  type Serving,
  serving,
  userEnv,
} from '../support/packed.js';

const root = ROOT;
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, { types: string } | string>;
  peerDependencies: Record<string, string>;
};
const { peerDependencies } = manifest;
/** Every entry point, as a user imports it: `toolproxy`, `toolproxy/provider`, … */
const entries = Object.keys(manifest.exports)
  .filter((subpath) => subpath !== './package.json')
  .map((subpath) => (subpath === '.' ? 'toolproxy' : `toolproxy/${subpath.slice(2)}`));

const work = mkdtempSync(join(tmpdir(), 'toolproxy-package-'));
/** The packed checkout, built: shared with other test files through the pack cache. */
let copy = '';
/** A consumer of this file's own: its tests install the optional peers into it. */
const consumer = join(work, 'consumer');
const toolproxyBin = join(consumer, 'node_modules', '.bin', 'toolproxy');
const running: Serving[] = [];
let tarball = '';
let packed: string[] = [];

/** The version of a package the checkout has, so the consumer installs the same from npm's cache. */
function checkoutVersion(name: string): string {
  const { version } = JSON.parse(
    readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'),
  ) as { version: string };
  return `${name}@${version}`;
}

/** Imports `entry` from plain Node ESM in the consumer project. */
function importFromConsumer(entry: string): Ran {
  const script = `const m = await import(${JSON.stringify(entry)}); console.log(Object.keys(m).join(','));`;
  return run(process.execPath, ['--input-type=module', '-e', script], consumer);
}

beforeAll(async () => {
  const installed = await installedToolproxy();
  ({ tarball, checkout: copy } = installed);
  packed = [...installed.files];
  installTarball(tarball, consumer);
}, 300_000);

afterAll(async () => {
  await Promise.all(running.map((serve) => serve.stop()));
  rmSync(work, { recursive: true, force: true });
}, 300_000);

async function serve(command: string, args: string[], cwd: string): Promise<Serving> {
  const env = { PATH: process.env.PATH ?? '', HOME: work, NODE_ENV: 'production' };
  const started = await serving(command, [...args, 'serve', '--port', '0'], { cwd, env });
  running.push(started);
  return started;
}

async function expectHealthAndPage(url: string): Promise<void> {
  const health = (await (await fetch(`${url}/healthz`)).json()) as Record<string, unknown>;
  expect(health).toMatchObject({ status: 'ok', service: 'toolproxy', mode: 'embedded' });
  const page = await fetch(`${url}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toMatch(/<script[^>]+page\.js/);
  const script = await fetch(`${url}/page.js`);
  expect(script.headers.get('content-type')).toMatch(/javascript/);
  expect((await script.text()).length).toBeGreaterThan(10_000);
}

describe('the tarball', () => {
  it('holds the build (page included), the sources its maps point at, the docs, and no tests', () => {
    for (const file of [
      'package.json',
      'bin/toolproxy.mjs',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/index.d.ts.map',
      'dist/proxy/cli/main.js',
      'dist/page/index.html',
      'dist/page/page.js',
      'src/index.ts',
      'examples/claude-code/settings.json',
      'examples/claude-code/.mcp.json',
      'README.md',
      'PROTOCOL.md',
      'SECURITY.md',
      'LICENSE',
    ]) {
      expect(packed).toContain(file);
    }
    expect(packed.filter((file) => /^(test|scripts|node_modules|\.ci)\//.test(file))).toEqual([]);
    expect(packed.filter((file) => file.endsWith('.tsbuildinfo'))).toEqual([]);
  });

  it('passes publint (strict)', () => {
    const result = run(join(root, 'node_modules', '.bin', 'publint'), [tarball, '--strict'], work);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/All good/);
  });

  it('passes are-the-types-wrong for every entry (ESM-only: node16 from ESM, bundler)', () => {
    const attw = join(root, 'node_modules', '.bin', 'attw');
    const result = run(attw, [tarball, '--profile', 'esm-only', '--no-color'], work);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    for (const entry of entries) expect(result.stdout).toContain(`"${entry}"`);
  }, 120_000);
});

describe('the packed checkout after its build', () => {
  it('serves /healthz and the page from dist/ with neither a bundler nor tsx installed', async () => {
    // A copy of the built checkout (the shared one stays as it is) without those packages.
    const built = join(work, 'built');
    const ownModules = join(copy, 'node_modules');
    cpSync(copy, built, { recursive: true, filter: (path) => path !== ownModules });
    const links = modulesWithout(root, join(work, 'node_modules-without'), [
      'esbuild',
      '@esbuild',
      'tsx',
    ]);
    symlinkSync(links, join(built, 'node_modules'));
    const started = await serve(process.execPath, [join('bin', 'toolproxy.mjs')], built);
    await expectHealthAndPage(started.url);
    expect(await started.stop()).toBe(0);
  }, 60_000);
});

describe('installed from the tarball, production dependencies only', () => {
  it('brings none of the development dependencies', () => {
    const installed = run('npm', ['ls', '--all', '--parseable'], consumer).stdout;
    for (const dev of ['typescript', 'tsx', 'esbuild', 'vitest', 'eslint']) {
      expect(installed).not.toMatch(new RegExp(`node_modules/${dev}$`, 'm'));
    }
  });

  it('runs `toolproxy --help`', () => {
    const result = run(toolproxyBin, ['--help'], consumer);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/toolproxy serve \[--host/);
    expect(result.stdout).toMatch(/toolproxy hook <event>/);
  });

  it('runs `toolproxy token`', () => {
    const env = userEnv({ TOOLPROXY_API_KEY: 'key', TOOLPROXY_API_SECRET: 's'.repeat(32) });
    const result = run(toolproxyBin, ['token', '--identity', 'robot-1'], consumer, { env });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('serves, and `toolproxy hook` reaches it (and says so when it cannot)', async () => {
    const started = await serve(toolproxyBin, [], consumer);
    await expectHealthAndPage(started.url);
    const hook = (url: string) =>
      run(toolproxyBin, ['hook', 'agent_loop_stopped', '--url', url], consumer, {
        input: '{"session_key":"chat-1","reason":"Stop requested"}',
      });
    const delivered = hook(started.url);
    expect(delivered, delivered.stderr).toMatchObject({ status: 0, stdout: '', stderr: '' });
    await started.logged(/"event":"agent_loop_stopped".*"msg":"hook accepted"/);
    expect(await started.stop()).toBe(0);
    // The same command with nobody listening: still exit 0 (never block the agent), one warning.
    const undelivered = hook(started.url);
    expect(undelivered.status).toBe(0);
    expect(undelivered.stderr).toMatch(/agent_loop_stopped not delivered: .*could not be reached/);
  }, 60_000);

  it('imports every entry point from plain Node ESM (and CommonJS) once its optional peer is installed', () => {
    // Which entries need which optional peer: what importing each without its peer says.
    const entryPeers: Record<string, string> = {};
    for (const entry of entries) {
      const result = importFromConsumer(entry);
      if (result.status === 0) continue;
      // Only a missing optional peer may stop an entry, with Node's plain "Cannot find package".
      const missing = /Cannot find package '([^']+)'/.exec(result.stderr)?.[1];
      expect(missing, `${entry}: ${result.stderr}`).toBeDefined();
      expect(Object.keys(peerDependencies)).toContain(missing);
      entryPeers[entry] = missing ?? '';
    }
    expect(Object.keys(entryPeers).length).toBeGreaterThan(0);
    // README's entry table names the peer each such entry needs.
    for (const [entry, peer] of Object.entries(entryPeers))
      expect(readmeRow(entry)).toContain(`\`${peer}\``);
    installPeers();
    for (const entry of entries) {
      const result = importFromConsumer(entry);
      expect(result.status, `${entry}: ${result.stderr}`).toBe(0);
      expect(result.stdout.trim().length).toBeGreaterThan(0);
      // engines is the range where require() loads ES modules: CommonJS programs can use it too.
      const required = run(process.execPath, ['-e', `require(${JSON.stringify(entry)})`], consumer);
      expect(required.status, `require(${entry}): ${required.stderr}`).toBe(0);
    }
  }, 300_000);

  it('exports every name README lists for each entry (as a value or in its types)', () => {
    installPeers();
    for (const entry of entries) {
      const row = readmeRow(entry);
      const names = [...row.split('|')[2]!.matchAll(/`([A-Za-z][A-Za-z0-9]*)`/g)].map((m) => m[1]!);
      const exported = entryExports(row);
      const missing = names.filter((name) => !exported.has(name) && !(name in peerDependencies));
      expect(missing, `${entry} in README`).toEqual([]);
    }
  }, 60_000);

  it('type-checks strict TypeScript consumers: node16, nodenext and bundler resolution', () => {
    installPeers();
    const core = entries.filter((entry) => !declarationsImportPeer(entry));
    writeConsumer('core.ts', core);
    writeConsumer('all.ts', entries);
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    for (const [module, moduleResolution] of [
      ['node16', 'node16'],
      ['nodenext', 'nodenext'],
      ['esnext', 'bundler'],
    ] as const) {
      // The entries without peers are checked with their declarations (skipLibCheck off); with
      // the peers' own declarations in (they need @types of their own), only the consumer is.
      for (const [file, skipLibCheck] of [
        ['core.ts', false],
        ['all.ts', true],
      ] as const) {
        const config = `tsconfig.${moduleResolution}.${file}.json`;
        writeFileSync(
          join(consumer, config),
          JSON.stringify({
            compilerOptions: {
              strict: true,
              noUncheckedIndexedAccess: true,
              module,
              moduleResolution,
              target: 'ES2022',
              lib: ['ES2023', 'DOM'],
              types: ['node'],
              noEmit: true,
              skipLibCheck,
            },
            files: [file],
          }),
        );
        const result = run(process.execPath, [tsc, '-p', config], consumer);
        expect(result.status, `${config}: ${result.stdout}${result.stderr}`).toBe(0);
      }
    }
  }, 600_000);
});

/** The README entry table's row whose first cell names `entry`. */
function readmeRow(entry: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const row = readme
    .split('\n')
    .find((line) => line.startsWith('| ') && line.split('|')[1]!.includes(`\`${entry}\``));
  expect(row, `README's entry table has a row for ${entry}`).toBeDefined();
  return row ?? '';
}

/** The names the entries in `row` export: runtime values and names in their declarations. */
function entryExports(row: string): Set<string> {
  const names = new Set<string>();
  for (const [, entry] of row.split('|')[1]!.matchAll(/`(toolproxy[^`]*)`/g)) {
    const values = importFromConsumer(entry!).stdout.trim().split(',');
    for (const name of values) names.add(name);
    const types = readFileSync(declarationsOf(entry!), 'utf8');
    for (const [, list] of types.matchAll(/export (?:type )?\{([^}]*)\}/g)) {
      for (const part of list!.split(',')) {
        const name = part
          .trim()
          .replace(/^type /, '')
          .split(/\s+as\s+/)
          .pop();
        if (name !== undefined && name !== '') names.add(name);
      }
    }
  }
  return names;
}

/** The installed `.d.ts` an entry's types resolve to. */
function declarationsOf(entry: string): string {
  const subpath = entry === 'toolproxy' ? '.' : `./${entry.slice('toolproxy/'.length)}`;
  const target = manifest.exports[subpath];
  if (typeof target !== 'object') throw new Error(`${entry} has no types`);
  return join(consumer, 'node_modules', 'toolproxy', target.types);
}

/** Whether an entry's declarations, followed through their relative imports, name a peer. */
function declarationsImportPeer(entry: string): boolean {
  const isPeer = (specifier: string) =>
    Object.keys(peerDependencies).some(
      (peer) => specifier === peer || specifier.startsWith(`${peer}/`),
    );
  const seen = new Set<string>();
  const pending = [declarationsOf(entry)];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)) {
      if (isPeer(specifier!)) return true;
      if (specifier!.startsWith('.'))
        pending.push(join(dirname(file), specifier!.replace(/\.js$/, '.d.ts')));
    }
  }
  return false;
}

/**
 * Installs every optional peer (pinned to the checkout's versions) and @types/node; idempotent.
 * All of them, not only those the import test saw missing, so each test stands on its own.
 */
function installPeers(): void {
  const packages = ['@types/node', ...Object.keys(peerDependencies)].map(checkoutVersion);
  npm(['install', '--prefer-offline', '--no-save', ...packages], consumer);
}

/** A consumer that imports every entry and uses each namespace, so nothing is elided. */
function writeConsumer(file: string, imported: readonly string[]): void {
  const lines = imported.map((entry, i) => `import * as entry${i} from '${entry}';`);
  lines.push(`export const entries = [${imported.map((_, i) => `entry${i}`).join(', ')}];`);
  if (imported.includes('toolproxy/serve') && imported.includes('toolproxy')) {
    const serveIndex = imported.indexOf('toolproxy/serve');
    const coreIndex = imported.indexOf('toolproxy');
    lines.push(
      `export const served: Promise<entry${serveIndex}.RunningServe> = entry${serveIndex}.startServe(entry${serveIndex}.serveConfig({ port: '0' }, {}));`,
      `export const proxy: entry${coreIndex}.ToolProxy = new entry${coreIndex}.ToolProxy({ defaultTimeoutMs: 30_000 });`,
      `export const result: Promise<unknown> = proxy.call('move_arm', { x: 1 }, { sessionKey: 'chat-1' });`,
    );
  }
  writeFileSync(join(consumer, file), `${lines.join('\n')}\n`);
}
