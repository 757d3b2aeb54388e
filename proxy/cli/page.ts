/** The browser provider page served at `/` in embedded mode (examples/browser-page), bundled at start. */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pageDir = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'examples',
  'browser-page',
);

export interface PageAssets {
  html: string;
  script: string;
}

/** Bundles page.ts for the browser with esbuild (a development dependency; the page needs it). */
export async function buildPageAssets(): Promise<PageAssets> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(pageDir, 'page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['toolproxy-source'],
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  const script = result.outputFiles[0]?.text;
  if (script === undefined) throw new Error('esbuild produced no page bundle');
  return { html: await readFile(join(pageDir, 'index.html'), 'utf8'), script };
}
