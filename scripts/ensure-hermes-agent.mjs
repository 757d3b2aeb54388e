#!/usr/bin/env node
// hermes-agent from PyPI, for the real-peer test of the hermes plugin (test/real-peers/
// hermes-agent.test.ts): a venv made with the machine's python3 in the peers cache outside the
// repository, recorded in the same manifest as the other peers (test/support/mcp-peers.ts reads
// it). 0.19.0 is the newest release PyPI has; its `mcp` extra (the MCP SDK at the version hermes
// pins) is what gives hermes its MCP client. Prints one line and always exits 0: the test decides
// whether a missing hermes is skipped or fails (TOOLPROXY_REQUIRE_REAL_PEERS=1).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, lastLines, readManifest, recordPeer } from './peers-manifest.mjs';

const ID = 'hermes-agent';
const PACKAGE = 'hermes-agent';
const VERSION = '0.19.0';
/** What the venv must hold: hermes and the MCP SDK its `mcp` extra pins. */
const PACKAGES = { [PACKAGE]: VERSION, mcp: '1.26.0' };
const BIN = 'bin/python';
const INSTALL_TIMEOUT_MS = 15 * 60_000;

const dirName = `${ID}-${VERSION}`;
const dir = join(cacheDir, dirName);
const requirement = `${PACKAGE}[mcp]==${VERSION}`;
const label = Object.entries(PACKAGES)
  .map(([name, version]) => `${name}==${version}`)
  .join(' ');

/** True when the venv holds exactly PACKAGES; fast: reads package metadata only. */
function installedMatches() {
  const python = join(dir, BIN);
  if (!existsSync(python)) return false;
  const result = spawnSync(
    python,
    [
      '-c',
      'import importlib.metadata as m, json, sys; print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))',
      ...Object.keys(PACKAGES),
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (result.status !== 0) return false;
  try {
    const versions = JSON.parse(result.stdout);
    return Object.entries(PACKAGES).every(([name, version]) => versions[name] === version);
  } catch {
    return false;
  }
}

function run(what, command, args, timeout) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    timeout,
    env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' },
  });
  if (result.error) return `${what} did not run: ${result.error.message}`;
  if (result.status !== 0)
    return `${what} exited ${result.status ?? result.signal}: ${lastLines(result.stderr || result.stdout)}`;
  return undefined;
}

/**
 * Made in place (a venv's scripts name the folder they were made in, so it cannot be renamed):
 * the manifest entry, written only once hermes' plugin loader imports, is what marks it complete.
 */
function install() {
  rmSync(dir, { recursive: true, force: true });
  const python = join(dir, BIN);
  const failure =
    run('python3 -m venv', 'python3', ['-m', 'venv', dir], 120_000) ??
    run(
      'pip install',
      python,
      ['-m', 'pip', 'install', '--quiet', requirement],
      INSTALL_TIMEOUT_MS,
    ) ??
    // The plugin loader and the MCP client the test drives.
    run(
      'import hermes_cli.plugins',
      python,
      ['-c', 'import hermes_cli.plugins, tools.mcp_tool, mcp'],
      120_000,
    );
  if (failure === undefined && !installedMatches())
    return `installed, but the versions are not ${label}`;
  if (failure !== undefined) rmSync(dir, { recursive: true, force: true });
  return failure;
}

function main() {
  const entry = readManifest()[ID];
  if (entry?.version === VERSION && entry.dir === dirName && installedMatches()) {
    console.log(`toolproxy peers: ${ID} already there (${label})`);
    return;
  }
  let failure;
  try {
    mkdirSync(cacheDir, { recursive: true });
    console.log(`toolproxy peers: ${ID}: installing ${label} into a venv (once per machine)`);
    failure = install();
    recordPeer(
      ID,
      failure === undefined
        ? { package: PACKAGE, version: VERSION, packages: PACKAGES, dir: dirName, bin: BIN }
        : { package: PACKAGE, version: VERSION, packages: PACKAGES, unavailable: failure },
    );
  } catch (error) {
    failure ??= error instanceof Error ? error.message : String(error);
  }
  console.log(
    failure === undefined
      ? `toolproxy peers: ${ID} installed (${label}) in ${dir}`
      : `toolproxy peers: ${ID} unavailable: ${label}: ${failure}`,
  );
}

main();
