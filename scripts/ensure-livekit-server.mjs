#!/usr/bin/env node
// The real LiveKit server (SFU) the live suite runs against (test/live/): built once per machine
// from its Go module at a pinned version with the machine's Go, into the peers cache outside the
// repository, and recorded in the same manifest as the MCP peers (test/support/mcp-peers.ts reads
// it). Prints one line and always exits 0: the live suite decides whether a missing server is
// skipped (no Go here) or fails (TOOLPROXY_REQUIRE_REAL_PEERS=1).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, lastLines, readManifest, recordPeer } from './peers-manifest.mjs';

const ID = 'livekit-server';
const MODULE = 'github.com/livekit/livekit-server';
// v1.13.5's go.mod has no replace directives, so `go install module/cmd/server@version` builds it.
const VERSION = 'v1.13.5';
const BIN = 'bin/server';
/** A cold build downloads a few hundred modules and compiles them on two cores. */
const BUILD_TIMEOUT_MS = 30 * 60_000;

const dirName = `${ID}-${VERSION.slice(1)}`;

/** Builds into a scratch folder, then one rename, so an interrupted build never looks complete. */
function build() {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0)
    return `no Go toolchain on PATH (${go.error?.message ?? go.stderr.trim()})`;
  const scratch = join(cacheDir, `.building-${ID}-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(join(scratch, 'bin'), { recursive: true });
  const result = spawnSync('go', ['install', `${MODULE}/cmd/server@${VERSION}`], {
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
    env: {
      ...process.env,
      GOBIN: join(scratch, 'bin'),
      CGO_ENABLED: '0',
      GOTOOLCHAIN: 'local',
      GOFLAGS: '-mod=mod -trimpath',
    },
    cwd: cacheDir,
  });
  let failure;
  if (result.error) failure = `go did not run: ${result.error.message}`;
  else if (result.status !== 0)
    failure = `go install exited ${result.status ?? result.signal}: ${lastLines(result.stderr)}`;
  else if (!existsSync(join(scratch, BIN))) failure = `built, but ${BIN} is not there`;
  if (failure !== undefined) {
    rmSync(scratch, { recursive: true, force: true });
    return failure;
  }
  rmSync(join(cacheDir, dirName), { recursive: true, force: true });
  renameSync(scratch, join(cacheDir, dirName));
  return undefined;
}

function main() {
  const label = `${MODULE}@${VERSION}`;
  const entry = readManifest()[ID];
  if (entry?.version === VERSION && existsSync(join(cacheDir, entry.dir ?? '', BIN))) {
    console.log(`toolproxy peers: ${ID} already there (${label})`);
    return;
  }
  let failure;
  try {
    mkdirSync(cacheDir, { recursive: true });
    console.log(`toolproxy peers: ${ID}: building ${label} (once per machine; minutes)`);
    failure = build();
    recordPeer(
      ID,
      failure === undefined
        ? { package: MODULE, version: VERSION, dir: dirName, bin: BIN }
        : { package: MODULE, version: VERSION, unavailable: failure },
    );
  } catch (error) {
    failure ??= error instanceof Error ? error.message : String(error);
  }
  console.log(
    failure === undefined
      ? `toolproxy peers: ${ID} built (${label}) in ${join(cacheDir, dirName)}`
      : `toolproxy peers: ${ID} unavailable: ${label}: ${failure}`,
  );
}

main();
