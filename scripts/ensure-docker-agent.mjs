#!/usr/bin/env node
// The real docker-agent the test suite drives against toolproxy (test/real-peers/docker-agent*):
// built once per machine from its Go module at a pinned version with the machine's Go (cgo on: it
// links tree-sitter), into the peers cache outside the repository, and recorded in the peers
// manifest (test/support/mcp-peers.ts reads it). Its go.mod carries replace directives, which
// `go install module@version` refuses, so it is built inside a small wrapper module that requires
// the pinned version and repeats those directives, with the module's own go.sum: the checksum
// database does not know some of its dependencies, so their sums come from the module's authors,
// exactly as a build in its own checkout would take them. Prints one line and always exits 0: the tests
// decide whether a missing agent is skipped (no Go or no C compiler here) or fails
// (TOOLPROXY_REQUIRE_REAL_PEERS=1).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cacheDir,
  ensurePeer,
  lastLines,
  runStep,
  scratchDir,
  settleScratch,
} from './peers-manifest.mjs';

const ID = 'docker-agent';
const MODULE = 'github.com/docker/docker-agent';
// The module proxy lists no versions of this module and refuses many tags: v1.124.0 is the newest
// it serves that was found (v1.125.0 to v1.150.0 refused).
const VERSION = 'v1.124.0';
const BIN = 'bin/docker-agent';
/** A cold build downloads a few hundred modules and compiles them (and C) on two cores. */
const BUILD_TIMEOUT_MS = 45 * 60_000;

const dirName = `${ID}-${VERSION.slice(1)}`;

function goEnv(extra = {}) {
  return {
    ...process.env,
    CGO_ENABLED: '1',
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-mod=mod -trimpath',
    ...extra,
  };
}

function go(args, cwd, timeout = BUILD_TIMEOUT_MS) {
  const result = spawnSync('go', args, { encoding: 'utf8', timeout, env: goEnv(), cwd });
  if (result.error) return { failure: `go ${args[0]} did not run: ${result.error.message}` };
  if (result.status !== 0)
    return {
      failure: `go ${args.slice(0, 2).join(' ')} exited ${result.status ?? result.signal}: ${lastLines(result.stderr)}`,
    };
  return { stdout: result.stdout };
}

/** The `replace` directives of the module's own go.mod, one per line, block form flattened. */
function replaceDirectives(goMod) {
  const lines = [];
  let inBlock = false;
  for (const raw of goMod.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (inBlock) {
      if (line === ')') inBlock = false;
      else if (line !== '') lines.push(`replace ${line}`);
    } else if (/^replace\s*\($/.test(line)) inBlock = true;
    else if (/^replace\s/.test(line)) lines.push(line);
  }
  return lines;
}

/** Builds in a scratch folder of the cache (see `settleScratch`). */
function build() {
  const noGo = runStep('go version', 'go', ['version']);
  if (noGo !== undefined) return `no Go toolchain on PATH (${noGo})`;
  const compiler = process.env.CC || 'gcc';
  const noCc = runStep(compiler, compiler, ['--version']);
  if (noCc !== undefined) return `no C compiler for cgo (${noCc})`;
  const scratch = scratchDir(ID);
  const wrapper = join(scratch, 'wrapper');
  mkdirSync(wrapper, { recursive: true });
  mkdirSync(join(scratch, 'bin'), { recursive: true });
  let failure;
  try {
    const downloaded = go(
      ['mod', 'download', '-json', `${MODULE}@${VERSION}`],
      wrapper,
      10 * 60_000,
    );
    if (downloaded.failure !== undefined)
      return settleScratch(scratch, dirName, downloaded.failure);
    const info = JSON.parse(downloaded.stdout);
    const upstream = readFileSync(info.GoMod, 'utf8');
    const goLine = /^go\s+(\S+)/m.exec(upstream)?.[1] ?? '1.26';
    writeFileSync(
      join(wrapper, 'go.mod'),
      [
        'module toolproxy.local/docker-agent-build',
        '',
        `go ${goLine}`,
        '',
        `require ${MODULE} ${VERSION}`,
        '',
        ...replaceDirectives(upstream),
        '',
      ].join('\n'),
    );
    copyFileSync(join(info.Dir, 'go.sum'), join(wrapper, 'go.sum'));
    // The version the binary reports (`docker-agent version`); a plain build says "dev".
    const ldflags = `-X ${MODULE}/pkg/version.Version=${VERSION}`;
    const built = go(['build', '-ldflags', ldflags, '-o', join(scratch, BIN), MODULE], wrapper);
    if (built.failure !== undefined) failure = built.failure;
    else if (!existsSync(join(scratch, BIN))) failure = `built, but ${BIN} is not there`;
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
  }
  return settleScratch(scratch, dirName, failure);
}

ensurePeer({
  id: ID,
  label: `${MODULE}@${VERSION}`,
  entry: { package: MODULE, version: VERSION, dir: dirName, bin: BIN },
  present: (entry) => entry.version === VERSION && existsSync(join(cacheDir, entry.dir ?? '', BIN)),
  install: build,
  doing: 'building (cgo; many minutes)',
});
