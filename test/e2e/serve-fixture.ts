/** `serve` in-process on a free loopback port, with an MCP client and a hook poster. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { developmentKeys } from '../../proxy/cli/config.js';
import { type RunningServe, type ServeOptions, startServe } from '../../proxy/cli/serve.js';
import { silentLogger } from '../../src/index.js';

export interface ServeFixture {
  serve: RunningServe;
  keys: ReturnType<typeof developmentKeys>;
  mcp: Client;
  postHook(event: string, payload: object): Promise<Response>;
  close(): Promise<void>;
}

export async function startServeFixture(options: ServeOptions = {}): Promise<ServeFixture> {
  const keys = developmentKeys();
  const serve = await startServe(
    {
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      mcp: 'http',
      room: 'toolproxy',
      keys,
      livekit: undefined,
    },
    { logger: silentLogger, announce: () => {} },
    options,
  );
  const mcp = new Client({ name: 'e2e-agent', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp`)));
  return {
    serve,
    keys,
    mcp,
    postHook: (event, payload) =>
      fetch(`${serve.url}/hooks/${event}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      }),
    close: async () => {
      await mcp.close();
      await serve.close();
    },
  };
}
