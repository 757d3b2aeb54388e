/**
 * Real Chromium (Debian's, driven by playwright-core) loads the page `serve` shows at `/`; an MCP
 * client calls its `wait_for_click`; `agent_loop_stopped` posted to the hook ingress cancels it. The
 * page must show the cancellation within 500 ms, and the MCP call must return a cancelled result.
 * `snapshot_page` draws the page on a canvas and must come back through MCP as a PNG image block.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeFixture, startServeFixture } from './serve-fixture.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifacts = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-artifacts');

describe.skipIf(!existsSync(CHROMIUM))(
  'the browser page in real Chromium (skipped: no chromium; npm test installs it as root)',
  () => {
    let browser: Browser;
    let fixture: ServeFixture;

    beforeAll(async () => {
      fixture = await startServeFixture();
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await fixture?.close();
    });

    it('an agent_loop_stopped hook cancels wait_for_click: the page shows it within 500 ms, MCP gets a cancelled result', async () => {
      const page = await browser.newPage();
      await page.goto(fixture.serve.url);
      await page.waitForSelector('#status[data-state="ready"]', { timeout: 15_000 });
      await expect
        .poll(() => fixture.serve.proxy.tools().map((tool) => tool.name))
        .toContain('wait_for_click');
      // The page's identity is the one /token picked for it, not one the page chose.
      expect(await page.locator('#status').textContent()).toMatch(
        /^connected as page-[A-Za-z0-9_-]{16}: tools offered$/,
      );
      const tool = fixture.serve.proxy.tools().find((t) => t.providerName === 'wait_for_click');

      const call = fixture.mcp.callTool({
        name: tool?.name ?? 'wait_for_click',
        arguments: { label: 'Approve' },
      });
      await page.waitForSelector('#click-target', { timeout: 5_000 });
      await page.waitForSelector('#calls li[data-tool="wait_for_click"][data-outcome="pending"]');

      const stopped = Date.now();
      const response = await fixture.postHook('agent_loop_stopped', {
        session_key: 'e2e',
        platform: 'e2e',
        reason: 'Stop requested',
      });
      expect(response.status).toBe(200);
      await page.waitForSelector(
        '#calls li[data-tool="wait_for_click"][data-outcome="cancelled"]',
        { timeout: 500 },
      );
      const shownWithinMs = Date.now() - stopped;
      expect(shownWithinMs).toBeLessThan(500);
      expect(await page.locator('#click-target').count()).toBe(0);
      expect(
        await page.locator('#calls li[data-tool="wait_for_click"] .status').textContent(),
      ).toMatch(/cancelled: agent-loop-stopped/);

      const result = CallToolResultSchema.parse(await call);
      expect(result.isError).toBe(true);
      expect(result.content[0]).toMatchObject({
        type: 'text',
        text: expect.stringContaining('cancelled because the agent loop was stopped'),
      });

      await mkdir(artifacts, { recursive: true });
      await page.screenshot({
        path: join(artifacts, 'browser-page-cancelled.png'),
        fullPage: true,
      });
      await page.close();
      await expect.poll(() => fixture.serve.proxy.tools().length).toBe(0);
    }, 60_000);

    it('the other browser tools run in the page', async () => {
      const page = await browser.newPage();
      await page.goto(fixture.serve.url);
      await page.waitForSelector('#status[data-state="ready"]', { timeout: 15_000 });
      await expect.poll(() => fixture.serve.proxy.tools().length).toBe(4);
      await fixture.mcp.callTool({ name: 'set_page_color', arguments: { color: '#ffe0e0' } });
      await fixture.mcp.callTool({
        name: 'show_notification',
        arguments: { title: 'Hello', body: 'from the agent' },
      });
      expect(await page.locator('#notification').textContent()).toBe('Hello: from the agent');
      expect(await page.evaluate(() => document.body.style.background)).toContain('255, 224, 224');
      await page.close();
    }, 60_000);

    it('snapshot_page answers through MCP with an image block of PNG bytes showing the page', async () => {
      const page = await browser.newPage();
      await page.goto(fixture.serve.url);
      await page.waitForSelector('#status[data-state="ready"]', { timeout: 15_000 });
      await expect.poll(() => fixture.serve.proxy.tools().length).toBe(4);
      await fixture.mcp.callTool({ name: 'set_page_color', arguments: { color: '#ffe0e0' } });
      await fixture.mcp.callTool({
        name: 'show_notification',
        arguments: { title: 'Snap', body: 'cheese' },
      });
      // The page fades to a new colour (a CSS transition); the picture is of what is shown.
      await page.waitForFunction(
        () => getComputedStyle(document.body).backgroundColor === 'rgb(255, 224, 224)',
      );

      const result = CallToolResultSchema.parse(
        await fixture.mcp.callTool({ name: 'snapshot_page', arguments: {} }),
      );
      expect(result.isError).toBeUndefined();
      const [image, text] = result.content;
      expect(image).toMatchObject({ type: 'image', mimeType: 'image/png' });
      const png = Buffer.from(image?.type === 'image' ? image.data : '', 'base64');
      const picture = readPng(png);
      expect(picture).toMatchObject({ width: 640, height: 360 });
      // The page's background colour, #ffe0e0, is what the canvas drew in the corner.
      expect(picture.firstPixel).toEqual([255, 224, 224]);
      expect(result.structuredContent).toMatchObject({
        width: 640,
        height: 360,
        background: 'rgb(255, 224, 224)',
        notification: 'Snap: cheese',
      });
      expect(text).toMatchObject({
        type: 'text',
        text: expect.stringContaining('notification "Snap: cheese"'),
      });

      await mkdir(artifacts, { recursive: true });
      await writeFile(join(artifacts, 'browser-page-snapshot.png'), png);
      await page.close();
    }, 60_000);
  },
);

/**
 * The size of a PNG from its IHDR chunk, and its top-left pixel's RGB: whatever filter the
 * encoder chose, the first pixel of the first row is stored as it is.
 */
function readPng(png: Buffer): { width: number; height: number; firstPixel: number[] } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.toString('latin1', 12, 16)).toBe('IHDR');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  expect(png[24]).toBe(8); // bit depth
  expect([2, 6]).toContain(png[25]); // truecolour, with or without alpha
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const rows = inflateSync(Buffer.concat(idat));
  return { width, height, firstPixel: [...rows.subarray(1, 4)] };
}
