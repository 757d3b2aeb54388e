/**
 * Finds the real MCP clients that scripts/ensure-mcp-peers.mjs installs (npm test's pretest) in the
 * peers cache: a Node >= 22 binary, the MCP Inspector CLI and the MCP conformance suite. A suite
 * whose peers are missing is skipped, saying why, unless TOOLPROXY_REQUIRE_REAL_PEERS=1 (CI), where
 * it fails with that reason instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The peers the cache holds: `livekit-server` is built by scripts/ensure-livekit-server.mjs;
 * `python-livekit` (a venv with the LiveKit Python SDK; its path is the venv's python) by
 * scripts/ensure-python-livekit.mjs; the agents (`claude-code`, `docker-agent`, `hermes-agent`) by
 * scripts/ensure-<agent>.mjs.
 */
export type McpPeerId =
  | 'node'
  | 'inspector'
  | 'conformance'
  | 'livekit-server'
  | 'python-livekit'
  | 'claude-code'
  | 'docker-agent'
  | 'hermes-agent';

export interface InstalledPeer {
  readonly id: McpPeerId;
  readonly package: string;
  readonly version: string;
  /** Absolute path of the entry point: a binary (Node, the server, a venv's python), or a script. */
  readonly path: string;
}

export type PeerLookup =
  | { readonly found: true; readonly peer: InstalledPeer }
  | { readonly found: false; readonly why: string };

export const PEERS_DIR =
  process.env.TOOLPROXY_PEERS_DIR || join(homedir(), '.cache', 'toolproxy-peers');

export const REQUIRE_REAL_PEERS = process.env.TOOLPROXY_REQUIRE_REAL_PEERS === '1';

const INSTALL_HINT =
  "run the installers of npm test's pretest (node scripts/ensure-*.mjs), which npm test runs first";

function readManifest(): Record<string, unknown> | string {
  const path = join(PEERS_DIR, 'manifest.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return `no peers manifest at ${path}: ${INSTALL_HINT}`;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  return `${path} is not a JSON object: ${INSTALL_HINT}`;
}

/** Where peer `id` is installed, or why it is not there. */
export function findMcpPeer(id: McpPeerId): PeerLookup {
  const manifest = readManifest();
  if (typeof manifest === 'string') return { found: false, why: manifest };
  const entry = manifest[id] as Record<string, unknown> | undefined;
  if (entry === undefined)
    return { found: false, why: `${id} is not in the peers manifest: ${INSTALL_HINT}` };
  const label = `${String(entry.package)}@${String(entry.version)}`;
  if (typeof entry.unavailable === 'string')
    return { found: false, why: `${label} could not be installed: ${entry.unavailable}` };
  if (typeof entry.dir !== 'string' || typeof entry.bin !== 'string')
    return { found: false, why: `the manifest entry for ${id} is incomplete: ${INSTALL_HINT}` };
  const path = join(PEERS_DIR, entry.dir, entry.bin);
  if (!existsSync(path))
    return { found: false, why: `${label}: ${path} is missing: ${INSTALL_HINT}` };
  return {
    found: true,
    peer: { id, package: String(entry.package), version: String(entry.version), path },
  };
}

export interface PeerGate<Id extends McpPeerId> {
  /** For `describe.skipIf`: peers are missing and not required. */
  readonly skip: boolean;
  /** Why the suite cannot run, when a peer is missing. */
  readonly missing: string | undefined;
  /**
   * The peers, for `beforeAll`. Throws the reason when one is missing: with
   * TOOLPROXY_REQUIRE_REAL_PEERS=1 the suite runs and fails on it rather than being skipped.
   */
  peers(): Record<Id, InstalledPeer>;
}

/** Looks up the `ids` a suite needs; prints one line when it will be skipped for want of one. */
export function mcpPeerGate<Id extends McpPeerId>(suite: string, ids: readonly Id[]): PeerGate<Id> {
  const lookups = ids.map((id) => [id, findMcpPeer(id)] as const);
  const reasons = new Set(lookups.flatMap(([, lookup]) => (lookup.found ? [] : [lookup.why])));
  const missing = reasons.size === 0 ? undefined : [...reasons].join('; ');
  const skip = missing !== undefined && !REQUIRE_REAL_PEERS;
  if (skip) console.warn(`${suite}: skipped: ${missing}`);
  return {
    skip,
    missing,
    peers: () => {
      if (missing !== undefined)
        throw new Error(
          `${suite} needs its real peers (TOOLPROXY_REQUIRE_REAL_PEERS=1): ${missing}`,
        );
      const found: Partial<Record<Id, InstalledPeer>> = {};
      for (const [id, lookup] of lookups) if (lookup.found) found[id] = lookup.peer;
      return found as Record<Id, InstalledPeer>;
    },
  };
}
