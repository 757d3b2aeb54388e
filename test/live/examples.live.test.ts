/**
 * The LiveKit examples, run as their READMEs say against the live suite's real server: exactly the
 * commands a checkout runs (`npx tsx --conditions=toolproxy-source examples/…`, with LIVEKIT_URL,
 * LIVEKIT_API_KEY and LIVEKIT_API_SECRET set), examples/livekit-proxy driven through its stdin, and
 * the browser page opened in Debian's Chromium. What is asserted is what the READMEs promise.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterEach, beforeAll, afterAll, describe, expect, inject, it } from 'vitest';
import { REQUIRE_REAL_PEERS } from '../support/mcp-peers.js';
import { CHROMIUM, launchChromium } from './browser/relay.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = join(root, 'test-artifacts');
const { url, apiKey, apiSecret } = inject('livekit');
const LINE_TIMEOUT_MS = 20_000;
const ROBOT_README = 'examples/robot-arm/README.md';
const PAGE_README = 'examples/browser-livekit/README.md';

/** One example program, started by its README command; its stdout and stderr read line by line. */
class Example {
  readonly lines: string[] = [];
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #exited: Promise<number | null>;
  readonly #waiters = new Set<() => void>();

  constructor(file: string, env: Record<string, string>) {
    // Its own process group: npx runs tsx, which runs node; stop() signals all of them.
    this.#child = spawn('npx', ['tsx', '--conditions=toolproxy-source', file], {
      cwd: root,
      env: { ...process.env, ...env },
      detached: true,
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', resolve));
    let partial = '';
    const read = (chunk: Buffer) => {
      const [first = '', ...rest] = (partial + chunk.toString()).split('\n');
      const complete = rest.length === 0 ? [] : [first, ...rest.slice(0, -1)];
      partial = rest.length === 0 ? first : (rest.at(-1) ?? '');
      this.lines.push(...complete);
      for (const waiter of this.#waiters) waiter();
    };
    this.#child.stdout.on('data', read);
    this.#child.stderr.on('data', read);
  }

  /** The first line (from `from` on) matching `pattern`; rejects with the output after a bound. */
  line(pattern: RegExp, from = 0, ms = LINE_TIMEOUT_MS): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.slice(from).find((line) => pattern.test(line));
        if (found === undefined) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no line matching ${pattern} in:\n${this.lines.join('\n')}`));
      }, ms);
      this.#waiters.add(check);
      check();
    });
  }

  /** Types a line on its stdin; returns where its answer starts in `lines`. */
  type(text: string): number {
    const at = this.lines.length;
    this.#child.stdin.write(`${text}\n`);
    return at;
  }

  exited(): Promise<number | null> {
    return this.#exited;
  }

  /** A signal to the whole group (SIGINT: what Ctrl+C in its terminal sends), then waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.#child.exitCode === null && this.#child.pid !== undefined) {
      try {
        process.kill(-this.#child.pid, signal);
      } catch {
        // already gone
      }
    }
    return this.#exited;
  }
}

const running: Example[] = [];
afterEach(async () => {
  for (const example of running.splice(0).reverse()) await example.stop();
});

let rooms = 0;
/** The README's variables, pointed at the live server; a room of its own for each test. */
function liveKitEnv(): Record<string, string> {
  const room = `examples-${++rooms}-${Date.now().toString(36)}`;
  return {
    LIVEKIT_URL: url,
    LIVEKIT_API_KEY: apiKey,
    LIVEKIT_API_SECRET: apiSecret,
    LIVEKIT_ROOM: room,
  };
}

/** Starts `file` as the example's README says a checkout does (and checks that it says so). */
async function start(readme: string, file: string, env: Record<string, string>): Promise<Example> {
  const text = await readFile(join(root, readme), 'utf8');
  expect(text, `${readme} gives the command`).toContain(
    `npx tsx --conditions=toolproxy-source ${file}`,
  );
  const example = new Example(file, env);
  running.push(example);
  return example;
}

describe('examples/robot-arm with examples/livekit-proxy, as the README runs them', () => {
  it('`call move_arm` reports progress; `stop` cancels it at once and the robot prints where it stopped', async () => {
    const env = liveKitEnv();
    const proxy = await start(ROBOT_README, 'examples/livekit-proxy/proxy.ts', env);
    await proxy.line(/^joined room ".+" at ws:/);
    const robot = await start(ROBOT_README, 'examples/robot-arm/robot.ts', env);
    await robot.line(/^robot-arm joined room/);
    await robot.line(/^registered move_arm with toolproxy-agent$/);
    await proxy.line(/^new tool: move_arm from robot-arm$/);
    await proxy.line(/^new tool: get_position from robot-arm$/);

    let at = proxy.type('tools');
    await proxy.line(/^move_arm \(robot-arm\): Move the arm/, at);

    at = proxy.type('call move_arm {"x": 40, "y": 12}'); // 41.8 cm at 5 cm/s: over 8 s
    await proxy.line(/^calling move_arm…$/, at);
    await robot.line(/^\[arm\] moving from \(0, 0\) to \(40, 12\)/);
    const progress = /^ {2}move_arm: at \(-?[\d.]+, -?[\d.]+\)$/;
    const first = await proxy.line(progress, at);
    await proxy.line(progress, proxy.lines.indexOf(first) + 1);

    const stopAt = proxy.type('stop');
    const cancelled = await proxy.line(/^move_arm ✗ /, stopAt);
    expect(cancelled).toMatch(
      /^move_arm ✗ CANCELLED: The tool call was cancelled because the agent loop was stopped/,
    );
    const stopped = await robot.line(/^\[arm\] stopped at \(/);
    const [, x = '', y = ''] = /stopped at \((-?[\d.]+), (-?[\d.]+)\)/.exec(stopped) ?? [];
    expect(Number(x)).toBeGreaterThan(0);
    expect(Number(x)).toBeLessThan(40);

    at = proxy.type('call get_position');
    const position = await proxy.line(/^get_position → /, at);
    expect(JSON.parse(position.replace('get_position → ', ''))).toEqual({
      x: Number(x),
      y: Number(y),
    });

    // Ctrl+C: the robot leaves the room at once (a killed process would linger for about 20 s).
    at = proxy.lines.length;
    await robot.stop('SIGINT');
    await proxy.line(/^gone: move_arm \(/, at, 5_000);
    proxy.type('quit');
    expect(await proxy.exited()).toBe(0);
  }, 90_000);
});

const noChromium = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM}`;
if (noChromium !== undefined && !REQUIRE_REAL_PEERS)
  console.warn(`examples/browser-livekit: skipped: ${noChromium}`);

describe.skipIf(noChromium !== undefined && !REQUIRE_REAL_PEERS)(
  'examples/browser-livekit with examples/livekit-proxy, as the README runs them',
  () => {
    let browser: Browser | undefined;
    beforeAll(async () => {
      if (noChromium !== undefined) throw new Error(`this example needs Chromium: ${noChromium}`);
      browser = await launchChromium();
    }, 60_000);
    afterAll(() => browser?.close());

    it('the page offers its tools; a click answers ask_user, and `stop` withdraws it: "ended by the agent"', async () => {
      const env = liveKitEnv();
      const proxy = await start(PAGE_README, 'examples/livekit-proxy/proxy.ts', env);
      await proxy.line(/^joined room/);
      const serve = await start(PAGE_README, 'examples/browser-livekit/serve.ts', env);
      const link = await serve.line(/^open http:\/\/127\.0\.0\.1:5173\/\?url=.+&token=.+$/);

      const page = await browser!.newPage();
      await page.goto(link.replace(/^open /, ''));
      const log = page.locator('#log');
      await expect
        .poll(() => log.textContent(), { timeout: 15_000 })
        .toContain('joined as browser-page');
      await proxy.line(/^new tool: ask_user from browser-page$/);
      await expect.poll(() => log.textContent(), { timeout: 15_000 }).toContain('offered ask_user');

      let at = proxy.type('call show_message {"text": "Hello from the agent"}');
      await proxy.line(/^show_message → "shown"$/, at);
      expect(await page.locator('#message').textContent()).toBe('Hello from the agent');

      at = proxy.type('call ask_user {"question": "Ready?", "choices": ["yes", "no"]}');
      await page.locator('#question button', { hasText: 'yes' }).click({ timeout: 15_000 });
      await proxy.line(/^ask_user → "yes"$/, at);
      await expect.poll(() => log.textContent()).toContain('ask_user answered');

      proxy.type('call ask_user {"question": "Ready?", "choices": ["yes", "no"]}');
      await page.locator('#question p', { hasText: 'Ready?' }).waitFor({ timeout: 15_000 });
      const stopAt = proxy.type('stop');
      await proxy.line(/^ask_user ✗ CANCELLED: /, stopAt);
      const ended = page.locator('#log li.cancelled', { hasText: 'ask_user ended by the agent' });
      await ended.waitFor({ timeout: 5_000 });
      expect(await ended.textContent()).toMatch(/ended by the agent: .*agent-loop-stopped/);
      expect(await page.locator('#question').innerHTML()).toBe('');
      // Listed once, as ended by the agent, not also as failed.
      expect(await page.locator('#log li.error').count()).toBe(0);

      await mkdir(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'browser-livekit-ended.png'), fullPage: true });
      at = proxy.lines.length;
      await page.close();
      await proxy.line(/^gone: ask_user \(/, at, 5_000);
      proxy.type('quit');
      expect(await proxy.exited()).toBe(0);
    }, 90_000);
  },
);
