#!/usr/bin/env node
// The real Claude Code CLI the test suite drives against toolproxy (test/real-peers/claude-code*):
// npm `@anthropic-ai/claude-code` at a pinned version, installed once per machine into the peers
// cache outside the repository and recorded in the peers manifest (test/support/mcp-peers.ts reads
// it). The package is a stub plus a native binary in a per-platform optional dependency; its own
// postinstall (install.cjs) links that binary over the stub, so it is run explicitly after an
// install with every other script off. Prints one line and always exits 0: the tests decide
// whether a missing peer is skipped or fails (TOOLPROXY_REQUIRE_REAL_PEERS=1).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  cacheDir,
  ensurePeer,
  lastLines,
  npmInstall,
  runStep,
  scratchDir,
  settleScratch,
} from './peers-manifest.mjs';

const ID = 'claude-code';
const PACKAGE = '@anthropic-ai/claude-code';
const VERSION = '2.1.332';
const PACKAGE_DIR = `node_modules/${PACKAGE}`;
/** The stub the postinstall replaces with the platform's native binary. */
const BIN = `${PACKAGE_DIR}/bin/claude.exe`;
/** The native binary is ~400 MB: give a slow registry time. */
const INSTALL_TIMEOUT_MS = 15 * 60_000;

const dirName = `${ID}-${VERSION}`;

function install() {
  const scratch = scratchDir(ID);
  const failure =
    npmInstall(ID, scratch, `${PACKAGE}@${VERSION}`, INSTALL_TIMEOUT_MS) ??
    // The package's own postinstall: links the native binary of this platform over the stub.
    runStep('install.cjs', process.execPath, [join(scratch, PACKAGE_DIR, 'install.cjs')], {
      cwd: scratch,
      timeout: 60_000,
    }) ??
    checkVersion(join(scratch, BIN));
  return settleScratch(scratch, dirName, failure);
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

ensurePeer({
  id: ID,
  label: `${PACKAGE}@${VERSION}`,
  entry: { package: PACKAGE, version: VERSION, dir: dirName, bin: BIN },
  present: (entry) => entry.version === VERSION && existsSync(join(cacheDir, entry.dir ?? '', BIN)),
  install,
  doing: 'installing (~400 MB)',
});
