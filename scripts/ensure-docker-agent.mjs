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
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { cacheDir, lastLines, readManifest, recordPeer } from './peers-manifest.mjs';

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

/** Builds into a scratch folder, then one rename, so an interrupted build never looks complete. */
function build() {
  const version = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0)
    return `no Go toolchain on PATH (${version.error?.message ?? version.stderr.trim()})`;
  const cc = spawnSync(process.env.CC || 'gcc', ['--version'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0)
    return `no C compiler for cgo (${process.env.CC || 'gcc'}: ${cc.error?.message ?? cc.stderr.trim()})`;
  const scratch = join(cacheDir, `.building-${ID}-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
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
    if (downloaded.failure !== undefined) return downloaded.failure;
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
    console.log(`toolproxy peers: ${ID}: building ${label} (once per machine; many minutes)`);
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
