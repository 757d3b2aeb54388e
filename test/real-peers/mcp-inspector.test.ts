/**
 * The real MCP Inspector CLI (@modelcontextprotocol/inspector, pinned in
 * scripts/ensure-mcp-peers.mjs) against toolproxy's MCP front, with a provider registering tools
 * over the WebSocket bridge: over Streamable HTTP to an in-process `serve`, and over stdio with the
 * Inspector launching `toolproxy serve --mcp stdio` itself. Assertions are on the JSON the
 * Inspector prints (`--format json`: one `{"result": ...}` object) and on its exit code (5 when
 * the tool result is `isError`).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mcpPeerGate } from '../support/mcp-peers.js';
import { killAll, peerEnv, type PeerExit, scratchHome, startPeer } from './peer-process.js';
import {
  bridgeUrl,
  providerToken,
  type ServedProvider,
  serveWithProvider,
} from './serve-with-provider.js';
import { RED_PIXEL_PNG } from './conformance-provider.js';
import { type WireTool, WireProvider } from './wire-provider.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TOOLPROXY_BIN = fileURLToPath(new URL('../../bin/toolproxy.mjs', import.meta.url));
const STDIO_GATE = fileURLToPath(new URL('./stdio-gate.mjs', import.meta.url));
/** The Inspector exits with this when the tool result is `isError: true`. */
const EXIT_TOOL_ERROR = 5;
/** Starting `toolproxy serve` from TypeScript sources (tsx) takes seconds on a loaded 2-core box. */
const STDIO_LIMIT_MS = 90_000;

const TOOLS: readonly WireTool[] = [
  {
    name: 'echo',
    description: 'Says the text back',
    inputSchema: {
      type: 'object',
      properties: { text: { type: 'string' } },
      required: ['text'],
    },
    run: (call) => ({ result: call.arguments.text }),
  },
  {
    name: 'add',
    description: 'Adds two numbers',
    inputSchema: {
      type: 'object',
      properties: { a: { type: 'number' }, b: { type: 'number' } },
      required: ['a', 'b'],
    },
    run: (call) => ({ result: { sum: Number(call.arguments.a) + Number(call.arguments.b) } }),
  },
  {
    name: 'grip',
    description: 'Closes the gripper (jammed today)',
    inputSchema: { type: 'object', properties: {} },
    run: () => ({ error: { message: 'the gripper is jammed', code: 'E_JAM' } }),
  },
  {
    name: 'look',
    description: 'Shows what the camera sees',
    inputSchema: { type: 'object', properties: {} },
    run: () => ({
      content: [
        { type: 'text', text: 'one red pixel' },
        { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
      ],
    }),
  },
];

const gate = mcpPeerGate('MCP Inspector real-peer tests', ['node', 'inspector']);

/** The `result` of the Inspector's JSON envelope; fails the test with what it printed otherwise. */
function printedResult(exit: PeerExit): Record<string, unknown> {
  let envelope: unknown;
  try {
    envelope = JSON.parse(exit.stdout);
  } catch {
    throw new Error(
      `the Inspector printed no JSON (exit ${exit.code}): ${exit.stdout}\n${exit.stderr}`,
    );
  }
  const result = (envelope as { result?: unknown }).result;
  if (typeof result !== 'object' || result === null)
    throw new Error(`no "result" in the Inspector's output: ${exit.stdout}`);
  return result as Record<string, unknown>;
}

describe.skipIf(gate.skip)('MCP Inspector CLI against toolproxy', { timeout: 60_000 }, () => {
  let peers: ReturnType<typeof gate.peers>;
  let home: ReturnType<typeof scratchHome>;

  beforeAll(() => {
    peers = gate.peers();
    home = scratchHome();
  });
  afterEach(() => killAll());
  afterAll(() => home?.remove());

  /** `inspector --cli ARGS --format json`, with the Node 22 binary and a scratch HOME. */
  function inspector(args: readonly string[], limitMs = 60_000) {
    return startPeer(
      peers.node.path,
      [peers.inspector.path, '--cli', ...args, '--format', 'json'],
      { env: peerEnv(home.path), cwd: REPO, limitMs },
    );
  }

  describe('over Streamable HTTP (serve in-process)', () => {
    let served: ServedProvider;

    beforeAll(async () => {
      served = await serveWithProvider(TOOLS, 'inspector-provider');
    }, 30_000);
    afterAll(async () => {
      await served?.close();
    });

    const http = (...args: string[]) => [served.mcpUrl, '--transport', 'http', ...args];

    it('tools/list prints every provider tool with its description and input schema', async () => {
      const exit = await inspector(http('--method', 'tools/list')).exited;
      expect(exit.code).toBe(0);
      const { tools } = printedResult(exit) as { tools: Record<string, unknown>[] };
      expect(tools.map((tool) => tool.name).sort()).toEqual(['add', 'echo', 'grip', 'look']);
      expect(tools.find((tool) => tool.name === 'add')).toMatchObject({
        description: 'Adds two numbers',
        inputSchema: {
          type: 'object',
          properties: { a: { type: 'number' }, b: { type: 'number' } },
          required: ['a', 'b'],
        },
      });
    });

    it('tools/call passes --tool-arg to the provider and prints its text', async () => {
      const exit = await inspector(
        http('--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'text=hello arm'),
      ).exited;
      expect(exit.code).toBe(0);
      expect(printedResult(exit)).toEqual({ content: [{ type: 'text', text: 'hello arm' }] });
      expect(served.provider.calls.at(-1)).toMatchObject({
        name: 'echo',
        arguments: { text: 'hello arm' },
      });
    });

    it('tools/call coerces numbers by the schema; an object result is structuredContent', async () => {
      const exit = await inspector(
        http('--method', 'tools/call', '--tool-name', 'add', '--tool-arg', 'a=2', 'b=40'),
      ).exited;
      expect(exit.code).toBe(0);
      expect(printedResult(exit)).toEqual({
        content: [{ type: 'text', text: '{"sum":42}' }],
        structuredContent: { sum: 42 },
      });
    });

    it("a provider's error is an isError result with its message (exit 5)", async () => {
      const exit = await inspector(http('--method', 'tools/call', '--tool-name', 'grip')).exited;
      expect(exit.code).toBe(EXIT_TOOL_ERROR);
      const result = printedResult(exit);
      expect(result.isError).toBe(true);
      expect(result.content).toEqual([
        { type: 'text', text: expect.stringContaining('the gripper is jammed') },
      ]);
    });

    it('arguments that break the schema are an isError result; the provider is not called', async () => {
      const before = served.provider.calls.length;
      const exit = await inspector(
        http('--method', 'tools/call', '--tool-name', 'add', '--tool-arg', 'a=2'),
      ).exited;
      expect(exit.code).toBe(EXIT_TOOL_ERROR);
      const result = printedResult(exit);
      expect(result.isError).toBe(true);
      expect(result.content).toEqual([
        { type: 'text', text: expect.stringMatching(/^Invalid arguments for tool "add"/) },
      ]);
      expect(served.provider.calls.length).toBe(before);
    });

    it('content blocks reach the Inspector as the provider sent them', async () => {
      const exit = await inspector(http('--method', 'tools/call', '--tool-name', 'look')).exited;
      expect(exit.code).toBe(0);
      expect(printedResult(exit)).toEqual({
        content: [
          { type: 'text', text: 'one red pixel' },
          { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
        ],
      });
    });
  });

  describe('over stdio (the Inspector launches toolproxy serve --mcp stdio)', () => {
    let provider: WireProvider | undefined;
    afterEach(async () => {
      await provider?.close();
      provider = undefined;
    });

    /**
     * Launches the Inspector on `toolproxy serve --mcp stdio` behind stdio-gate.mjs, attaches a
     * provider to that server's bridge (its URL read from the "listening" line on stderr, the
     * token signed with the keys given to it), then lets the Inspector's requests through.
     */
    async function overStdio(args: readonly string[]): Promise<PeerExit> {
      const keys = { apiKey: 'inspector-stdio', apiSecret: randomBytes(32).toString('hex') };
      const run = inspector(
        [
          process.execPath,
          STDIO_GATE,
          process.execPath,
          TOOLPROXY_BIN,
          'serve',
          '--mcp',
          'stdio',
          '--host',
          '127.0.0.1',
          '--port',
          '0',
          '-e',
          `LIVEKIT_API_KEY=${keys.apiKey}`,
          '-e',
          `LIVEKIT_API_SECRET=${keys.apiSecret}`,
          '-e',
          'TOOLPROXY_LOG_LEVEL=warn',
          '--cwd',
          REPO,
          '--connect-timeout',
          String(STDIO_LIMIT_MS),
          ...args,
        ],
        STDIO_LIMIT_MS,
      );
      const [, url] = await run.stderrMatch(/toolproxy listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const [, gatePid] = await run.stderrMatch(/stdio-gate pid (\d+)/);
      provider = await WireProvider.connect(
        bridgeUrl(url!),
        await providerToken(keys, 'inspector-stdio-provider'),
        TOOLS,
      );
      process.kill(Number(gatePid), 'SIGUSR1');
      return run.exited;
    }

    it(
      "tools/list over stdio prints the tools of the provider on that server's bridge",
      async () => {
        const exit = await overStdio(['--method', 'tools/list']);
        expect(exit.code).toBe(0);
        const { tools } = printedResult(exit) as { tools: Record<string, unknown>[] };
        expect(tools.map((tool) => tool.name).sort()).toEqual(['add', 'echo', 'grip', 'look']);
      },
      STDIO_LIMIT_MS + 5_000,
    );

    it(
      'tools/call over stdio reaches the provider and prints its text',
      async () => {
        const exit = await overStdio([
          '--method',
          'tools/call',
          '--tool-name',
          'echo',
          '--tool-arg',
          'text=over stdio',
        ]);
        expect(exit.code).toBe(0);
        expect(printedResult(exit)).toEqual({ content: [{ type: 'text', text: 'over stdio' }] });
        expect(provider?.calls).toEqual([
          expect.objectContaining({ name: 'echo', arguments: { text: 'over stdio' } }),
        ]);
      },
      STDIO_LIMIT_MS + 5_000,
    );
  });
});
