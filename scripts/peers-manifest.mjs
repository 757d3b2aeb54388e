// The peers cache outside the repository and its manifest (which peer is where, or why it is not),
// and the frame every peer installer (scripts/ensure-*.mjs) shares: install into a scratch folder,
// move it into place with one rename, record it, print one line, never fail the run. The tests
// read the same manifest (test/support/mcp-peers.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const cacheDir =
  process.env.TOOLPROXY_PEERS_DIR || join(homedir(), '.cache', 'toolproxy-peers');
const manifestPath = join(cacheDir, 'manifest.json');

export function readManifest() {
  try {
    const parsed = JSON.parse(readFileSync(manifestPath, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** Sets one peer's entry, re-reading the manifest first; one rename, so it is never half written. */
export function recordPeer(id, entry) {
  const temporary = `${manifestPath}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ ...readManifest(), [id]: entry }, null, 2)}\n`);
  renameSync(temporary, manifestPath);
}

export function lastLines(text, count = 3) {
  return text.trim().split('\n').slice(-count).join(' | ');
}

/** Runs one step of an install: undefined when it worked, else what went wrong (`what` names it). */
export function runStep(what, command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: 'pipe', ...options });
  if (result.error) return `${what} did not run: ${result.error.message}`;
  if (result.status !== 0)
    return `${what} exited ${result.status ?? result.signal}: ${lastLines(result.stderr || result.stdout)}`;
  return undefined;
}

/** An empty scratch folder in the cache, for an install in progress. */
export function scratchDir(id) {
  const scratch = join(cacheDir, `.installing-${id}-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  return scratch;
}

/**
 * Ends an install made in `scratch`: on success, one rename into `dirName`, so an interrupted
 * install never looks complete; on failure, the scratch folder goes. Returns `failure`.
 */
export function settleScratch(scratch, dirName, failure) {
  if (failure !== undefined) {
    rmSync(scratch, { recursive: true, force: true });
    return failure;
  }
  rmSync(join(cacheDir, dirName), { recursive: true, force: true });
  renameSync(scratch, join(cacheDir, dirName));
  return undefined;
}

/** npm's environment minus the setting npm refuses to take from the environment in an install. */
function npmEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => key.toLowerCase() !== 'npm_config_allow_scripts'),
  );
}

/** `npm install --prefix scratch spec`, scripts off; undefined, or why it failed. */
export function npmInstall(id, scratch, spec, timeout) {
  writeFileSync(
    join(scratch, 'package.json'),
    `${JSON.stringify({ name: `toolproxy-peer-${id}`, private: true }, null, 2)}\n`,
  );
  const npm = process.env.npm_execpath
    ? { command: process.execPath, args: [process.env.npm_execpath] }
    : { command: 'npm', args: [] };
  const flags = ['--save-exact', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
  return runStep(
    'npm install',
    npm.command,
    [...npm.args, 'install', '--prefix', scratch, ...flags, spec],
    { env: npmEnv(), timeout },
  );
}

/**
 * One peer, the way every installer does it: if `present(entry)` holds for its manifest entry,
 * says so; else runs `install()` (undefined, or why it failed), records `entry` (or
 * `unavailable` with the reason) and says which. Never throws: a peer that cannot be had is the
 * tests' to skip or fail (TOOLPROXY_REQUIRE_REAL_PEERS=1), not the install's.
 */
export function ensurePeer({ id, label, entry, present, install, doing = 'installing' }) {
  const recorded = readManifest()[id];
  if (recorded !== undefined && present(recorded)) {
    console.log(`toolproxy peers: ${id} already there (${label})`);
    return;
  }
  let failure;
  try {
    mkdirSync(cacheDir, { recursive: true });
    console.log(`toolproxy peers: ${id}: ${doing} ${label} (once per machine)`);
    failure = install();
    const kept = Object.entries(entry).filter(([key]) => key !== 'dir' && key !== 'bin');
    recordPeer(
      id,
      failure === undefined ? entry : { ...Object.fromEntries(kept), unavailable: failure },
    );
  } catch (error) {
    failure ??= error instanceof Error ? error.message : String(error);
  }
  console.log(
    failure === undefined
      ? `toolproxy peers: ${id} ready (${label}) in ${join(cacheDir, entry.dir)}`
      : `toolproxy peers: ${id} unavailable: ${label}: ${failure}`,
  );
}
