#!/usr/bin/env node
// The real MCP clients the test suite runs against toolproxy (test/real-peers/): a Node 22 binary
// (both need Node >= 22; the machine's own is 20), the MCP Inspector CLI and the MCP conformance
// suite, each at a pinned version, installed once per machine from the npm registry into a cache
// outside the repository. Prints one line per peer and always exits 0: the tests decide whether a
// missing peer is skipped or fails (TOOLPROXY_REQUIRE_REAL_PEERS=1). The tests find the peers
// through the manifest this writes (test/support/mcp-peers.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, ensurePeer, npmInstall, scratchDir, settleScratch } from './peers-manifest.mjs';

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

/**
 * `npm install --prefix` into a scratch folder, then one rename into place. Scripts are off: every
 * peer ships what it runs (the Node package its binary, the Inspector its built clients). Returns
 * undefined, or why it failed.
 */
function install(peer) {
  const scratch = scratchDir(peer.id);
  let failure = npmInstall(peer.id, scratch, `${peer.package}@${peer.version}`, INSTALL_TIMEOUT_MS);
  if (failure === undefined && !existsSync(join(scratch, peer.bin)))
    failure = `installed, but ${peer.bin} is not in the package`;
  else if (failure === undefined && peer.id.startsWith('node'))
    failure = checkNode(join(scratch, peer.bin));
  return settleScratch(scratch, dirName(peer), failure);
}

/** The binary must run here and be Node 22 or later. */
function checkNode(binary) {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0)
    return `${binary} does not run: ${result.error?.message ?? result.stderr}`;
  const major = Number(/^v(\d+)\./.exec(result.stdout.trim())?.[1]);
  return major >= 22 ? undefined : `${binary} is ${result.stdout.trim()}, not Node >= 22`;
}

for (const peer of PEERS) {
  ensurePeer({
    id: peer.id,
    label: `${peer.package}@${peer.version}`,
    entry: { package: peer.package, version: peer.version, dir: dirName(peer), bin: peer.bin },
    // This exact version, and its entry point on disk.
    present: (entry) =>
      entry.version === peer.version &&
      entry.package === peer.package &&
      typeof entry.dir === 'string' &&
      existsSync(join(cacheDir, entry.dir, peer.bin)),
    install: () => install(peer),
  });
}
