// The peers cache outside the repository and its manifest (which peer is where, or why it is not),
// shared by the scripts that install peers (ensure-mcp-peers.mjs, ensure-livekit-server.mjs); the
// tests read the same manifest (test/support/mcp-peers.ts).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
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
