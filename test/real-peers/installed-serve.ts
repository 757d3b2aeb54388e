/**
 * For the real-agent suites that follow an example's README as a user who installed toolproxy
 * from its tarball would: the README's ```sh blocks, the steps the test takes itself (installing
 * the tarball, which test/support/installed-toolproxy.ts did; starting `serve`, which runs for
 * good) told apart from those run as written with bash in the user's project, and `toolproxy
 * serve` started from that project's `node_modules/.bin/toolproxy`, with a wire provider attached
 * over its WebSocket bridge using a token from the installed `toolproxy token`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { InstalledToolproxy } from '../support/installed-toolproxy.js';
import { type Serving, serving } from '../support/packed.js';
import { bridgeUrl } from './serve-with-provider.js';
import { type WireTool, WireProvider } from './wire-provider.js';

/** The port the READMEs name as serve's default; a test's serve is on a free one instead. */
export const README_PORT = '7300';

/** The example's README in the checkout (the same file the tarball ships). */
export function exampleReadme(example: string): string {
  const path = fileURLToPath(new URL(`../../examples/${example}/README.md`, import.meta.url));
  return readFileSync(path, 'utf8');
}

/** The fenced blocks of `lang` in `markdown`, in order, their indentation (list items) removed. */
export function fencedBlocks(markdown: string, lang = 'sh'): string[] {
  const blocks: string[] = [];
  const fence = /^( *)```(\w*)\n([\s\S]*?)^ *```$/gm;
  for (const [, indent, blockLang, body] of markdown.matchAll(fence)) {
    if (blockLang !== lang) continue;
    const lines = body!.replace(/\n$/, '').split('\n');
    blocks.push(lines.map((line) => line.slice(Math.min(indent!.length, lead(line)))).join('\n'));
  }
  return blocks;
}

const lead = (line: string) => /^ */.exec(line)![0].length;

/** The one block of `lang` in the README that matches `pattern`: the test fails if none does. */
export function readmeBlock(markdown: string, pattern: RegExp, lang = 'sh'): string {
  const found = fencedBlocks(markdown, lang).filter((block) => pattern.test(block));
  expect(found, `one \`\`\`${lang} block of the README matching ${pattern}`).toHaveLength(1);
  return found[0]!;
}

/** A README command without its trailing `# comment` (none of the commands quotes a `#`). */
export const withoutComment = (line: string) => line.replace(/\s+#.*$/, '').trim();

export interface SetUpSteps {
  /** The lines that install toolproxy (the test installed the tarball they name). */
  readonly install: readonly string[];
  /** The `toolproxy serve` line's arguments after `serve` (the test starts it). */
  readonly serveArgs: readonly string[];
  /** The rest of the block, for bash in the user's project (`cd your-project` dropped). */
  readonly script: string;
}

/**
 * Splits a README block into the steps the test takes itself and the rest. The install lines must
 * name the tarball `npm pack` made, so a README naming another file fails here.
 */
export function setUpSteps(block: string, installed: InstalledToolproxy): SetUpSteps {
  const install: string[] = [];
  let serveArgs: string[] | undefined;
  const rest: string[] = [];
  for (const line of block.split('\n')) {
    const command = withoutComment(line);
    const serve = /^(?:npx (?:--no )?)?toolproxy serve\b(.*)$/.exec(command);
    if (/^npm install\b/.test(command)) install.push(line);
    else if (serve !== null) serveArgs = serve[1]!.trim().split(/\s+/).filter(Boolean);
    else if (command !== 'cd your-project') rest.push(line);
  }
  for (const line of install) expect(line).toContain(`./${basename(installed.tarball)}`);
  return { install, serveArgs: serveArgs ?? [], script: rest.join('\n') };
}

export interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `script` with bash (-e, -u, pipefail) in `cwd`, and expects it to succeed. */
export function runSteps(
  script: string,
  cwd: string,
  env: Record<string, string>,
  input = '',
): Ran {
  const result = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
    cwd,
    env,
    input,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.error !== undefined) throw result.error;
  const ran = { status: result.status, stdout: result.stdout, stderr: result.stderr };
  expect(ran, `the README's steps:\n${script}\n${ran.stdout}${ran.stderr}`).toMatchObject({
    status: 0,
  });
  return ran;
}

/** `script` with the README's example port (`7301`, `7400`, …) replaced by serve's. */
export const onPort = (script: string, readmePort: string, port: string): string =>
  script.replaceAll(readmePort, port);

export interface InstalledServe {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: string;
  readonly mcpUrl: string;
  readonly serving: Serving;
  readonly provider: WireProvider;
  /** serve's JSON log lines so far. */
  log(): string;
  /** Resolves once serve has logged a line matching `pattern`. */
  logged(pattern: RegExp): Promise<void>;
  close(): Promise<void>;
}

/**
 * `node_modules/.bin/toolproxy serve ARGS --port 0` in `project` (what `npx toolproxy serve` runs
 * there), signing keys of its own in its environment, and a provider of `tools` attached with a
 * token from `toolproxy token`, as a provider's operator would mint it.
 */
export async function serveInstalled(
  project: string,
  home: string,
  args: readonly string[],
  tools: readonly WireTool[],
  identity: string,
): Promise<InstalledServe> {
  const bin = join(project, 'node_modules', '.bin', 'toolproxy');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    TOOLPROXY_API_KEY: 'readme-key',
    TOOLPROXY_API_SECRET: randomBytes(32).toString('hex'),
    TOOLPROXY_LOG_FORMAT: 'json',
  };
  const started = await serving(bin, ['serve', ...args, '--port', '0'], { cwd: project, env });
  try {
    const minted = spawnSync(bin, ['token', '--identity', identity], {
      cwd: project,
      env,
      encoding: 'utf8',
    });
    expect(minted.status, minted.stderr).toBe(0);
    const provider = await WireProvider.connect(
      bridgeUrl(started.url),
      minted.stdout.trim(),
      tools,
    );
    return {
      url: started.url,
      port: new URL(started.url).port,
      mcpUrl: `${started.url}/mcp`,
      serving: started,
      provider,
      log: () => started.stderr(),
      logged: (pattern) => started.logged(pattern),
      close: async () => {
        await provider.close();
        await started.stop();
      },
    };
  } catch (error) {
    await started.stop();
    throw error;
  }
}

/** The pattern of serve's log line for an accepted hook `event`. */
export const hookAccepted = (event: string) =>
  new RegExp(`"event":"${event}".*"msg":"hook accepted"`);
