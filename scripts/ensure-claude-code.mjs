#!/usr/bin/env node
// The real Claude Code CLI the test suite drives against toolproxy (test/real-peers/claude-code*):
// npm `@anthropic-ai/claude-code` at a pinned version, installed once per machine into the peers
// cache outside the repository and recorded in the peers manifest (test/support/mcp-peers.ts reads
// it). The package is a stub plus a native binary in a per-platform optional dependency; its own
// postinstall (install.cjs) links that binary over the stub, so it is run explicitly after an
// install with every other script off. Prints one line and always exits 0: the tests decide
// whether a missing peer is skipped or fails (TOOLPROXY_REQUIRE_REAL_PEERS=1).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, lastLines, readManifest, recordPeer } from './peers-manifest.mjs';

const ID = 'claude-code';
const PACKAGE = '@anthropic-ai/claude-code';
const VERSION = '2.1.332';
const PACKAGE_DIR = `node_modules/${PACKAGE}`;
/** The stub the postinstall replaces with the platform's native binary. */
const BIN = `${PACKAGE_DIR}/bin/claude.exe`;
/** The native binary is ~400 MB: give a slow registry time. */
const INSTALL_TIMEOUT_MS = 15 * 60_000;

const dirName = `${ID}-${VERSION}`;

/** npm's environment minus the setting npm refuses to take from the environment in an install. */
function npmEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => key.toLowerCase() !== 'npm_config_allow_scripts'),
  );
}

/** Runs `command`; undefined, or why it failed (`what` names it). */
function run(what, command, args, options) {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: 'pipe', ...options });
  if (result.error) return `${what} did not run: ${result.error.message}`;
  if (result.status !== 0)
    return `${what} exited ${result.status ?? result.signal}: ${lastLines(result.stderr || result.stdout)}`;
  return undefined;
}

/** Installs into a scratch folder, then one rename, so an interrupted install never looks complete. */
function install() {
  const scratch = join(cacheDir, `.installing-${ID}-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  writeFileSync(
    join(scratch, 'package.json'),
    `${JSON.stringify({ name: `toolproxy-peer-${ID}`, private: true }, null, 2)}\n`,
  );
  const npm = process.env.npm_execpath
    ? { command: process.execPath, args: [process.env.npm_execpath] }
    : { command: 'npm', args: [] };
  const failure =
    run(
      'npm install',
      npm.command,
      [
        ...npm.args,
        'install',
        '--prefix',
        scratch,
        '--save-exact',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        `${PACKAGE}@${VERSION}`,
      ],
      { env: npmEnv(), timeout: INSTALL_TIMEOUT_MS },
    ) ??
    // The package's own postinstall: links the native binary of this platform over the stub.
    run('install.cjs', process.execPath, [join(scratch, PACKAGE_DIR, 'install.cjs')], {
      cwd: scratch,
      timeout: 60_000,
    }) ??
    checkVersion(join(scratch, BIN));
  if (failure !== undefined) {
    rmSync(scratch, { recursive: true, force: true });
    return failure;
  }
  rmSync(join(cacheDir, dirName), { recursive: true, force: true });
  renameSync(scratch, join(cacheDir, dirName));
  return undefined;
}

/** The binary must run here and say it is this version (the stub prints an error and exits 1). */
function checkVersion(binary) {
  const home = join(cacheDir, `.home-${ID}-${process.pid}`);
  mkdirSync(home, { recursive: true });
  const result = spawnSync(binary, ['--version'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, DISABLE_AUTOUPDATER: '1' },
  });
  rmSync(home, { recursive: true, force: true });
  if (result.error) return `${binary} does not run: ${result.error.message}`;
  if (result.status !== 0 || !result.stdout.startsWith(`${VERSION} `))
    return `${binary} --version: ${lastLines(result.stderr || result.stdout)}`;
  return undefined;
}

function main() {
  const label = `${PACKAGE}@${VERSION}`;
  const entry = readManifest()[ID];
  if (entry?.version === VERSION && existsSync(join(cacheDir, entry.dir ?? '', BIN))) {
    console.log(`toolproxy peers: ${ID} already there (${label})`);
    return;
  }
  let failure;
  try {
    mkdirSync(cacheDir, { recursive: true });
    console.log(`toolproxy peers: ${ID}: installing ${label} (once per machine; ~400 MB)`);
    failure = install();
    recordPeer(
      ID,
      failure === undefined
        ? { package: PACKAGE, version: VERSION, dir: dirName, bin: BIN }
        : { package: PACKAGE, version: VERSION, unavailable: failure },
    );
  } catch (error) {
    failure ??= error instanceof Error ? error.message : String(error);
  }
  console.log(
    failure === undefined
      ? `toolproxy peers: ${ID} installed (${label}) in ${join(cacheDir, dirName)}`
      : `toolproxy peers: ${ID} unavailable: ${label}: ${failure}`,
  );
}

main();
