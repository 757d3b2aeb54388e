#!/usr/bin/env node
// The LiveKit Python SDK at the versions hermes-livekit v0.3 pins, for the live suite's v0.3 client
// (test/live/v03_client.py): a venv made with the machine's python3 in the peers cache outside the
// repository, recorded in the same manifest as the other peers (test/support/mcp-peers.ts reads
// it). Prints one line and always exits 0: the live test decides whether a missing SDK is skipped
// or fails (TOOLPROXY_REQUIRE_REAL_PEERS=1).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, lastLines, readManifest, recordPeer } from './peers-manifest.mjs';

const ID = 'python-livekit';
/** hermes-livekit v0.3's pins (its pyproject.toml). */
const PACKAGES = { livekit: '1.1.7', 'livekit-api': '1.1.0' };
const VERSION = PACKAGES.livekit;
const BIN = 'bin/python';
const INSTALL_TIMEOUT_MS = 10 * 60_000;

const dirName = `${ID}-${VERSION}`;
const dir = join(cacheDir, dirName);
const label = Object.entries(PACKAGES)
  .map(([name, version]) => `${name}==${version}`)
  .join(' ');

/** The versions installed in the venv, or undefined; fast: reads package metadata only. */
function installedVersions() {
  const python = join(dir, BIN);
  if (!existsSync(python)) return undefined;
  const result = spawnSync(
    python,
    [
      '-c',
      'import importlib.metadata as m, json, sys; print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))',
      ...Object.keys(PACKAGES),
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (result.status !== 0) return undefined;
  try {
    return JSON.parse(result.stdout);
  } catch {
    return undefined;
  }
}

function matches(versions) {
  return (
    versions !== undefined &&
    Object.entries(PACKAGES).every(([name, version]) => versions[name] === version)
  );
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
 * the manifest entry, written only once the SDK imports, is what marks it complete.
 */
function install() {
  rmSync(dir, { recursive: true, force: true });
  const python = join(dir, BIN);
  const failure =
    run('python3 -m venv', 'python3', ['-m', 'venv', dir], 120_000) ??
    run(
      'pip install',
      python,
      ['-m', 'pip', 'install', '--quiet', ...label.split(' ')],
      INSTALL_TIMEOUT_MS,
    ) ??
    // Loads the native FFI library too: a wheel without one for this platform fails here.
    run('import livekit', python, ['-c', 'from livekit import api, rtc'], 60_000);
  if (failure === undefined && !matches(installedVersions()))
    return `installed, but the versions are not ${label}`;
  if (failure !== undefined) rmSync(dir, { recursive: true, force: true });
  return failure;
}

function main() {
  const entry = readManifest()[ID];
  if (entry?.version === VERSION && entry.dir === dirName && matches(installedVersions())) {
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
        ? { package: 'livekit', version: VERSION, packages: PACKAGES, dir: dirName, bin: BIN }
        : { package: 'livekit', version: VERSION, packages: PACKAGES, unavailable: failure },
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
