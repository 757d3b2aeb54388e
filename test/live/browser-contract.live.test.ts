/**
 * The bridge contract (test/contract/bridge-contract.ts) on the real LiveKit server with livekit-client
 * in real Chromium on one side: a browser provider page, and the proxy's seat in a page.
 */
import { existsSync } from 'node:fs';
import { dispose } from '@livekit/rtc-node';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { bridgeContract } from '../contract/bridge-contract.js';
import { REQUIRE_REAL_PEERS } from '../support/mcp-peers.js';
import { browserLiveKitWorld } from './browser-world.js';
import { CHROMIUM, launchChromium, type RelayPageServer, serveRelayPage } from './browser/relay.js';

const missing = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM}`;
if (missing !== undefined && !REQUIRE_REAL_PEERS)
  console.warn(`browser contract: skipped: ${missing}`);

describe.skipIf(missing !== undefined && !REQUIRE_REAL_PEERS)(
  'bridge contract: LiveKit (real server) with livekit-client in Chromium',
  () => {
    let chromium: { browser: Browser; origin: string } | undefined;
    let pageServer: RelayPageServer | undefined;
    const launched = () => {
      if (chromium === undefined) throw new Error(`Chromium did not start: ${missing ?? ''}`);
      return chromium;
    };

    beforeAll(async () => {
      if (missing !== undefined) throw new Error(`the browser contract must run here: ${missing}`);
      const [browser, served] = await Promise.all([launchChromium(), serveRelayPage()]);
      pageServer = served;
      chromium = { browser, origin: served.origin };
    }, 60_000);

    afterAll(async () => {
      await chromium?.browser.close();
      await pageServer?.close();
      await dispose();
    });

    const server = inject('livekit');
    describe('rtc-node agent ↔ livekit-client provider (a browser page)', () =>
      bridgeContract(
        browserLiveKitWorld({
          server,
          chromium: launched,
          agent: 'rtc-node',
          providers: 'livekit-client',
        }),
      ));
    describe("livekit-client agent (the proxy's seat in a page) ↔ rtc-node provider", () =>
      bridgeContract(
        browserLiveKitWorld({
          server,
          chromium: launched,
          agent: 'livekit-client',
          providers: 'rtc-node',
        }),
      ));
  },
);
