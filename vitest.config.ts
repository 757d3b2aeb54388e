import { defineConfig } from 'vitest/config';

// `toolproxy-source` resolves toolproxy's own entry points (the examples import `toolproxy/...`) to
// the TypeScript sources; a name of our own, so no dependency's exports match it by accident.
const conditions = ['toolproxy-source', 'import', 'node', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['toolproxy-source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    // The live suite runs in its own namespace, driven by test/live-suite.test.ts.
    exclude: ['**/node_modules/**', 'test/live/**'],
    testTimeout: 10_000,
    restoreMocks: true,
    unstubGlobals: true,
  },
});
