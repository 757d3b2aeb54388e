#!/usr/bin/env node
// The real LiveKit server (SFU) the live suite runs against (test/live/): built once per machine
// from its Go module at a pinned version with the machine's Go, into the peers cache outside the
// repository, and recorded in the peers manifest. Prints one line and always exits 0: the live
// suite decides whether a missing server is skipped (no Go here) or fails
// (TOOLPROXY_REQUIRE_REAL_PEERS=1).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, ensurePeer, runStep, scratchDir, settleScratch } from './peers-manifest.mjs';

const ID = 'livekit-server';
const MODULE = 'github.com/livekit/livekit-server';
// v1.13.5's go.mod has no replace directives, so `go install module/cmd/server@version` builds it.
const VERSION = 'v1.13.5';
const BIN = 'bin/server';
/** A cold build downloads a few hundred modules and compiles them on two cores. */
const BUILD_TIMEOUT_MS = 30 * 60_000;

const dirName = `${ID}-${VERSION.slice(1)}`;

function build() {
  const noGo = runStep('go version', 'go', ['version']);
  if (noGo !== undefined) return `no Go toolchain on PATH (${noGo})`;
  const scratch = scratchDir(ID);
  const failure =
    runStep('go install', 'go', ['install', `${MODULE}/cmd/server@${VERSION}`], {
      timeout: BUILD_TIMEOUT_MS,
      env: {
        ...process.env,
        GOBIN: join(scratch, 'bin'),
        CGO_ENABLED: '0',
        GOTOOLCHAIN: 'local',
        GOFLAGS: '-mod=mod -trimpath',
      },
      cwd: cacheDir,
    }) ?? (existsSync(join(scratch, BIN)) ? undefined : `built, but ${BIN} is not there`);
  return settleScratch(scratch, dirName, failure);
}

ensurePeer({
  id: ID,
  label: `${MODULE}@${VERSION}`,
  entry: { package: MODULE, version: VERSION, dir: dirName, bin: BIN },
  present: (entry) => entry.version === VERSION && existsSync(join(cacheDir, entry.dir ?? '', BIN)),
  install: build,
  doing: 'building (minutes)',
});
