import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// The live suite: against a real LiveKit server, inside a loopback-only network namespace.
// test/live-suite.test.ts runs it (`unshare -rn test/live/netns.sh vitest run --config …`).
// Built from the base config's resolve settings only: mergeConfig would concatenate `include`.
export default defineConfig({
  resolve: base.resolve,
  ssr: base.ssr,
  test: {
    include: ['test/live/**/*.live.test.ts'],
    globalSetup: ['test/live/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    restoreMocks: true,
  },
});
