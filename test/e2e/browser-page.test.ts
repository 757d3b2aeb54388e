/**
 * Real Chromium (Debian's, driven by playwright-core) loads the page `serve` shows at `/`; an MCP
 * client calls its `wait_for_click`; `agent_loop_stopped` posted to the hook ingress cancels it. The
 * page must show the cancellation within 500 ms, and the MCP call must return a cancelled result.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
      await expect.poll(() => fixture.serve.proxy.tools().length).toBe(3);
      await fixture.mcp.callTool({ name: 'set_page_color', arguments: { color: '#ffe0e0' } });
      await fixture.mcp.callTool({
        name: 'show_notification',
        arguments: { title: 'Hello', body: 'from the agent' },
      });
      expect(await page.locator('#notification').textContent()).toBe('Hello: from the agent');
      expect(await page.evaluate(() => document.body.style.background)).toContain('255, 224, 224');
      await page.close();
    }, 60_000);
  },
);
