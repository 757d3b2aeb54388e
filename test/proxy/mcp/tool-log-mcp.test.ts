/**
 * `client:tool-log` at the MCP front: each message of a call becomes a `notifications/message` on
 * the stream of its `tools/call` request (a real SDK Client over an in-memory transport, and raw
 * Streamable HTTP on loopback), below the session's `logging/setLevel` left out.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import {
  type LoggingMessageNotification,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../../bridge/memory.js';
import {
  createMcpServer,
  type McpServerHandle,
  McpHttpEndpoint,
} from '../../../proxy/mcp/index.js';
import {
  defineTool,
  TOOL_LOG_LEVELS,
  type ToolLogLevel,
  ToolProvider,
  ToolProxy,
} from '../../../src/index.js';
import type { JsonObject } from '../../support/wire-peer.js';

type LogParams = LoggingMessageNotification['params'];

/** A provider whose `chatty` tool sends the logs it is given, then answers `done`. */
async function chattyProxy(): Promise<{ proxy: ToolProxy; robot: ToolProvider }> {
  const room = new InMemoryRoom();
  const proxy = new ToolProxy();
  await proxy.start(room.join('agent', { isAgent: true }));
  const logEntry = z.object({
    level: z.enum(TOOL_LOG_LEVELS),
    data: z.unknown(),
    logger: z.string().optional(),
  });
  const robot = new ToolProvider({
    tools: [
      defineTool({
        name: 'chatty',
        description: 'Logs what it is given',
        input: z.object({ logs: z.array(logEntry) }),
        handler: ({ logs }, { log }) => {
          for (const entry of logs) log(entry.level, entry.data, entry.logger);
          return 'done';
        },
      }),
    ],
  });
  await robot.connect(room.join('robot'));
  await proxy.waitForTool('chatty');
  return { proxy, robot };
}

const EVERY_LEVEL = TOOL_LOG_LEVELS.map((level) => ({ level, data: `at ${level}` }));

describe('MCP front: notifications/message', () => {
  let proxy: ToolProxy;
  let robot: ToolProvider;
  let mcp: McpServerHandle;
  let client: Client;
  const seen: LogParams[] = [];

  beforeEach(async () => {
    seen.length = 0;
    ({ proxy, robot } = await chattyProxy());
    mcp = createMcpServer(proxy);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await mcp.server.connect(serverSide);
    client = new Client({ name: 'test-agent', version: '1.0.0' });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      seen.push(n.params);
    });
    await client.connect(clientSide);
  });

  afterEach(async () => {
    await client.close();
    mcp.close();
    await robot.close();
    await proxy.close();
  });

  it('declares the logging capability, and logging/setLevel answers {}', async () => {
    expect(client.getServerCapabilities()?.logging).toEqual({});
    await expect(client.setLoggingLevel('info')).resolves.toEqual({});
  });

  it('sends every log of the call, related to its request, before the result', async () => {
    const notify = vi.spyOn(mcp.server, 'notification');
    const logs = [...EVERY_LEVEL, { level: 'info', data: { n: 1 }, logger: 'arm' }];
    const result = await client.callTool({ name: 'chatty', arguments: { logs } });
    expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(seen).toEqual(logs);
    for (const [notification, options] of notify.mock.calls) {
      expect(notification.method).toBe('notifications/message');
      expect(options).toMatchObject({ relatedRequestId: expect.anything() });
    }
    expect(notify).toHaveBeenCalledTimes(logs.length);
  });

  it('leaves out what is below the level logging/setLevel set, and follows a new level', async () => {
    await client.setLoggingLevel('warning');
    await client.callTool({ name: 'chatty', arguments: { logs: EVERY_LEVEL } });
    expect(seen.map((params) => params.level)).toEqual(TOOL_LOG_LEVELS.slice(3));
    seen.length = 0;
    await client.setLoggingLevel('debug');
    await client.callTool({ name: 'chatty', arguments: { logs: EVERY_LEVEL } });
    expect(seen).toEqual(EVERY_LEVEL);
  });
});

describe('MCP front over Streamable HTTP', () => {
  let proxy: ToolProxy;
  let robot: ToolProvider;
  let endpoint: McpHttpEndpoint;
  let server: Server;
  let url: URL;
  const opened: Array<{ client: Client; transport: StreamableHTTPClientTransport }> = [];

  beforeEach(async () => {
    ({ proxy, robot } = await chattyProxy());
    endpoint = new McpHttpEndpoint(proxy);
    server = createServer((request, response) => void endpoint.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
  });

  afterEach(async () => {
    for (const { client, transport } of opened.splice(0)) {
      await transport.terminateSession();
      await client.close();
    }
    await endpoint.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await robot.close();
    await proxy.close();
  });

  /** An MCP session at `level`; returns what a `tools/call` POST of `chatty` streams back. */
  async function session(level: ToolLogLevel): Promise<(logs: unknown) => Promise<JsonObject[]>> {
    const client = new Client({ name: 'http-agent', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(url);
    opened.push({ client, transport });
    await client.connect(transport);
    await client.setLoggingLevel(level);
    return async (logs) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': transport.sessionId ?? '',
          'mcp-protocol-version': transport.protocolVersion ?? '',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: { name: 'chatty', arguments: { logs } },
        }),
      });
      const events = (await response.text()).split('\n').filter((line) => line.startsWith('data:'));
      return events.map((line) => JSON.parse(line.slice('data:'.length)) as JsonObject);
    };
  }

  it("logs travel on the call's POST stream, before its result, at each session's level", async () => {
    const quiet = await session('error');
    const verbose = await session('debug');
    const message = (params: object) => ({
      jsonrpc: '2.0',
      method: 'notifications/message',
      params,
    });
    const result = { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'done' }] } };
    await expect(quiet(EVERY_LEVEL)).resolves.toEqual([
      ...EVERY_LEVEL.slice(4).map(message),
      result,
    ]);
    await expect(verbose(EVERY_LEVEL)).resolves.toEqual([...EVERY_LEVEL.map(message), result]);
  });
});
