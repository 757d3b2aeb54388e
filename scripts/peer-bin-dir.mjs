#!/usr/bin/env node
// Prints the folder of a peer's binary that scripts/ensure-mcp-peers.mjs installed (e.g. `node24`),
// for putting another Node line first on PATH (.ci/run). Exits 1, saying why, when it is missing.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

const id = process.argv[2];
const cacheDir = process.env.TOOLPROXY_PEERS_DIR || join(homedir(), '.cache', 'toolproxy-peers');
let entry;
try {
  entry = JSON.parse(readFileSync(join(cacheDir, 'manifest.json'), 'utf8'))[id];
} catch (error) {
  console.error(`peer-bin-dir: no peer manifest in ${cacheDir} (${error.message})`);
  process.exit(1);
}
const binary = entry === undefined ? undefined : join(cacheDir, entry.dir, entry.bin);
if (binary === undefined || !existsSync(binary)) {
  console.error(
    `peer-bin-dir: ${id} is not installed in ${cacheDir}: run scripts/ensure-mcp-peers.mjs`,
  );
  process.exit(1);
}
console.log(dirname(binary));
