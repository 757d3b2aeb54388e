/**
 * Builds the page and serves it on loopback, then prints the link to open (with a provider token
 * when LIVEKIT_API_KEY / LIVEKIT_API_SECRET are set). See README.md beside this file.
 *
 *   LIVEKIT_URL=ws://localhost:7880 LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret \
 *     npx tsx --conditions=toolproxy-source examples/browser-livekit/serve.ts
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { mintProviderToken } from 'toolproxy/livekit';

const here = dirname(fileURLToPath(import.meta.url));

/** Bundles page.ts for the browser (livekit-client, zod and the provider runtime included). */
export async function buildPage(): Promise<string> {
  const result = await build({
    entryPoints: [join(here, 'page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['toolproxy-source'],
    write: false,
    minify: true,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild produced nothing');
  return output.text;
}

/** Serves index.html and the bundled page.js on 127.0.0.1. */
export async function servePage(port = 0): Promise<{ server: Server; origin: string }> {
  const files: Record<string, { type: string; body: string }> = {
    '/': {
      type: 'text/html; charset=utf-8',
      body: await readFile(join(here, 'index.html'), 'utf8'),
    },
    '/page.js': { type: 'text/javascript; charset=utf-8', body: await buildPage() },
  };
  const server = createServer((request, response) => {
    const file = files[new URL(request.url ?? '/', 'http://page').pathname];
    if (file === undefined) {
      response.writeHead(404).end('not found');
      return;
    }
    response
      .writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' })
      .end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${actual}` };
}

async function main(): Promise<void> {
  const url = process.env.LIVEKIT_URL ?? 'ws://localhost:7880';
  const room = process.env.LIVEKIT_ROOM ?? 'toolproxy';
  const { origin } = await servePage(Number(process.env.PORT ?? 5173));
  const apiKey = process.env.LIVEKIT_API_KEY;
  const apiSecret = process.env.LIVEKIT_API_SECRET;
  const token =
    process.env.LIVEKIT_TOKEN ??
    (apiKey && apiSecret
      ? await mintProviderToken({ apiKey, apiSecret, room, identity: 'browser-page' })
      : undefined);
  if (token === undefined) {
    console.log(`page at ${origin}/?url=${encodeURIComponent(url)}&token=<a provider token>`);
  } else {
    console.log(`open ${origin}/?url=${encodeURIComponent(url)}&token=${token}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`browser-livekit: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
