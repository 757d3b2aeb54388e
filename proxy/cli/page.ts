/**
 * The browser provider page served at `/` in embedded mode (examples/browser-page). The built
 * package ships it prebuilt (`npm run build` writes dist/page/); a source checkout bundles it at
 * start with esbuild, a development dependency.
 */
import { access, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** From dist/proxy/cli/: dist/page/. From the sources (proxy/cli/) this is not there. */
const prebuiltDir = join(here, '..', '..', 'page');
const sourceDir = join(here, '..', '..', 'examples', 'browser-page');

export interface PageAssets {
  html: string;
  script: string;
}

export async function buildPageAssets(): Promise<PageAssets> {
  const prebuilt = join(prebuiltDir, 'page.js');
  if (await exists(prebuilt)) {
    const [html, script] = await Promise.all([
      readFile(join(prebuiltDir, 'index.html'), 'utf8'),
      readFile(prebuilt, 'utf8'),
    ]);
    return { html, script };
  }
  return bundlePage();
}

/** Bundles the page from its sources (scripts/build-page.mjs writes this into dist/page/). */
export async function bundlePage(): Promise<PageAssets> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(sourceDir, 'page.ts')],
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
  return { html: await readFile(join(sourceDir, 'index.html'), 'utf8'), script };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
