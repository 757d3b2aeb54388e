#!/usr/bin/env node
// The real MCP clients the test suite runs against toolproxy (test/real-peers/): a Node 22 binary
// (both need Node >= 22; the machine's own is 20), the MCP Inspector CLI and the MCP conformance
// suite, each at a pinned version, installed once per machine from the npm registry into a cache
// outside the repository. Prints one line per peer and always exits 0: the tests decide whether a
// missing peer is skipped or fails (TOOLPROXY_REQUIRE_REAL_PEERS=1). The tests find the peers
// through the manifest this writes (test/support/mcp-peers.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, lastLines, readManifest, recordPeer } from './peers-manifest.mjs';

const NODE_PACKAGE = `node-${process.platform}-${process.arch}`;

/** What the tests run, by exact version. `bin`: the entry point, relative to the install dir. */
const PEERS = [
  {
    id: 'node',
    package: NODE_PACKAGE,
    version: '22.23.5',
    bin: `node_modules/${NODE_PACKAGE}/bin/node`,
  },
  {
    // Not an MCP peer: the newest Node line the suite runs on besides 20 and 22 (.ci/run).
    id: 'node24',
    package: NODE_PACKAGE,
    version: '24.22.3',
    bin: `node_modules/${NODE_PACKAGE}/bin/node`,
  },
  {
    id: 'inspector',
    package: '@modelcontextprotocol/inspector',
    version: '2.12.0',
    bin: 'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js',
  },
  {
    id: 'conformance',
    package: '@modelcontextprotocol/conformance',
    version: '0.1.16',
    bin: 'node_modules/@modelcontextprotocol/conformance/dist/index.js',
  },
];

/** An install that takes longer than this is given up (a registry that does not answer). */
const INSTALL_TIMEOUT_MS = 10 * 60_000;

function dirName(peer) {
  return `${peer.id}-${peer.version}`;
}

/** True when the manifest names this exact version and its entry point is on disk. */
function alreadyThere(manifest, peer) {
  const entry = manifest[peer.id];
  return (
    entry?.version === peer.version &&
    entry.package === peer.package &&
    typeof entry.dir === 'string' &&
    existsSync(join(cacheDir, entry.dir, peer.bin))
  );
}

/** npm's environment minus the setting npm refuses to take from the environment in an install. */
function npmEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => key.toLowerCase() !== 'npm_config_allow_scripts'),
  );
}

/**
 * `npm install --prefix` into a scratch folder, then one rename into place, so an interrupted
 * install never looks complete. Scripts are off: every peer ships what it runs (the Node package
 * its binary, the Inspector its built clients). Returns undefined, or why it failed.
 */
function install(peer) {
  const finalDir = join(cacheDir, dirName(peer));
  const scratch = join(cacheDir, `.installing-${peer.id}-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  writeFileSync(
    join(scratch, 'package.json'),
    `${JSON.stringify({ name: `toolproxy-peer-${peer.id}`, private: true }, null, 2)}\n`,
  );
  const npm = process.env.npm_execpath
    ? { command: process.execPath, args: [process.env.npm_execpath] }
    : { command: 'npm', args: [] };
  const result = spawnSync(
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
      `${peer.package}@${peer.version}`,
    ],
    { encoding: 'utf8', env: npmEnv(), timeout: INSTALL_TIMEOUT_MS, stdio: 'pipe' },
  );
  let failure;
  if (result.error) failure = `npm did not run: ${result.error.message}`;
  else if (result.status !== 0)
    failure = `npm install exited ${result.status ?? result.signal}: ${lastLines(result.stderr)}`;
  else if (!existsSync(join(scratch, peer.bin)))
    failure = `installed, but ${peer.bin} is not in the package`;
  else if (peer.id.startsWith('node')) failure = checkNode(join(scratch, peer.bin));
  if (failure !== undefined) {
    rmSync(scratch, { recursive: true, force: true });
    return failure;
  }
  rmSync(finalDir, { recursive: true, force: true });
  renameSync(scratch, finalDir);
  return undefined;
}

/** The binary must run here and be Node 22 or later. */
function checkNode(binary) {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0)
    return `${binary} does not run: ${result.error?.message ?? result.stderr}`;
  const major = Number(/^v(\d+)\./.exec(result.stdout.trim())?.[1]);
  return major >= 22 ? undefined : `${binary} is ${result.stdout.trim()}, not Node >= 22`;
}

function main() {
  try {
    mkdirSync(cacheDir, { recursive: true });
  } catch (error) {
    for (const peer of PEERS)
      console.log(`toolproxy peers: ${peer.id} unavailable: cannot create ${cacheDir}: ${error}`);
    return;
  }
  for (const peer of PEERS) {
    const label = `${peer.package}@${peer.version}`;
    const manifest = readManifest();
    if (alreadyThere(manifest, peer)) {
      console.log(`toolproxy peers: ${peer.id} already there (${label})`);
      continue;
    }
    let failure;
    try {
      failure = install(peer);
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    const entry =
      failure === undefined
        ? { package: peer.package, version: peer.version, dir: dirName(peer), bin: peer.bin }
        : { package: peer.package, version: peer.version, unavailable: failure };
    try {
      recordPeer(peer.id, entry);
    } catch (error) {
      failure ??= `installed, but the manifest could not be written: ${error}`;
    }
    console.log(
      failure === undefined
        ? `toolproxy peers: ${peer.id} installed (${label}) in ${join(cacheDir, dirName(peer))}`
        : `toolproxy peers: ${peer.id} unavailable: ${label}: ${failure}`,
    );
  }
}

main();
