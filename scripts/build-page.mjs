#!/usr/bin/env node
// Builds the browser page `serve` shows (examples/browser-page) into dist/page/, at build time, so
// the built package serves it without bundling anything at run time (esbuild is a development
// dependency). The bundling is proxy/cli/page.ts's own, which a source checkout runs at start.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const { bundlePage } = await import('../proxy/cli/page.ts');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(process.argv[2] ?? join(root, 'dist'), 'page');
const { html, script } = await bundlePage();
await mkdir(outDir, { recursive: true });
await Promise.all([
  writeFile(join(outDir, 'index.html'), html),
  writeFile(join(outDir, 'page.js'), script),
]);
