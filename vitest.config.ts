import { defineConfig } from 'vitest/config';

// `source` resolves toolproxy's own entry points (used by examples/) to the TypeScript sources.
const conditions = ['source', 'import', 'module', 'node', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 10_000,
    restoreMocks: true,
    unstubGlobals: true,
    // Inlined so its imports resolve without the `source` condition (eventsource-parser exports a
    // `source` entry pointing at TypeScript that Node cannot load).
    server: { deps: { inline: ['@modelcontextprotocol/sdk'] } },
  },
});
