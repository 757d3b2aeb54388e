/**
 * Rich results through each agent front, with the real packages: the MCP SDK's Client, the AI
 * SDK's generateText with its mock model, and a @livekit/agents AgentSession with its FakeLLM.
 * The tools are a real ToolProvider's on an in-memory room, returning `toolContent(...)`.
 */
import { initializeLogger, voice } from '@livekit/agents';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../bridge/memory.js';
import { aiSdkTools, toModelOutput } from '../../proxy/ai-sdk/index.js';
import { contentAsText, liveKitAgentTools } from '../../proxy/livekit-agents/function-tools.js';
import { createMcpServer, type McpServerHandle } from '../../proxy/mcp/index.js';
import {
  type ContentBlockInput,
  defineTool,
  isToolResultContent,
  toolContent,
  ToolProvider,
  ToolProxy,
  ToolResultContent,
} from '../../src/index.js';

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==';
const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=';

const image: ContentBlockInput = { type: 'image', data: PNG, mimeType: 'image/png' };
const audio: ContentBlockInput = { type: 'audio', data: WAV, mimeType: 'audio/wav' };
const textResource: ContentBlockInput = {
  type: 'resource',
  resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'embedded text' },
};
const blobResource: ContentBlockInput = {
  type: 'resource',
  resource: { uri: 'file:///arm.bin', mimeType: 'application/octet-stream', blob: 'AAECAw==' },
};
const link: ContentBlockInput = {
  type: 'resource_link',
  uri: 'https://robot.test/frames/7.png',
  name: '7.png',
  title: 'Frame 7',
  description: 'the camera frame',
  mimeType: 'image/png',
};

/** Tool name → what its handler returns. */
const ANSWERS: Record<string, () => unknown> = {
  snap: () => toolContent([image, { type: 'text', text: 'a red dot' }], { width: 1, height: 1 }),
  listen: () => toolContent([audio]),
  embed: () => toolContent([textResource, blobResource]),
  link: () => toolContent([link], [7]),
  mixed: () => toolContent([{ type: 'text', text: 'all of it' }, image, audio, textResource]),
  plain: () => ({ x: 40 }),
};

let room: InMemoryRoom;
let proxy: ToolProxy;
let robot: ToolProvider;

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

beforeEach(async () => {
  room = new InMemoryRoom();
  proxy = new ToolProxy();
  await proxy.start(room.join('agent', { isAgent: true }));
  robot = new ToolProvider({
    tools: Object.entries(ANSWERS).map(([name, answer]) =>
      defineTool({ name, description: name, input: z.object({}), handler: answer }),
    ),
  });
  await robot.connect(room.join('robot'));
  await proxy.waitForTool('plain');
});

afterEach(async () => {
  await robot.close();
  await proxy.close();
});

describe('MCP: content blocks pass through as the call result', () => {
  let mcp: McpServerHandle;
  let client: Client;

  beforeEach(async () => {
    mcp = createMcpServer(proxy, { name: 'toolproxy-test', version: '1.0.0' });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await mcp.server.connect(serverSide);
    client = new Client({ name: 'test-agent', version: '1.0.0' });
    await client.connect(clientSide);
  });

  afterEach(async () => {
    await client.close();
    mcp.close();
  });

  it.each<[string, unknown[], unknown]>([
    ['snap', [image, { type: 'text', text: 'a red dot' }], { width: 1, height: 1 }],
    ['listen', [audio], undefined],
    ['embed', [textResource, blobResource], undefined],
    ['link', [link], undefined], // an array is no structuredContent
    ['mixed', [{ type: 'text', text: 'all of it' }, image, audio, textResource], undefined],
  ])('%s', async (name, content, structuredContent) => {
    // The SDK client parses the result with its own CallToolResult schema.
    const result = await client.callTool({ name, arguments: {} });
    expect(result).toEqual({
      content,
      ...(structuredContent === undefined ? {} : { structuredContent }),
    });
  });

  it('a plain result is still JSON text plus structuredContent', async () => {
    const result = await client.callTool({ name: 'plain', arguments: {} });
    expect(result).toEqual({
      content: [{ type: 'text', text: '{"x":40}' }],
      structuredContent: { x: 40 },
    });
  });
});

describe('AI SDK: content becomes the model output, media as file parts', () => {
  const usage = {
    inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: 1, text: 1, reasoning: 0 },
  };
  const turn = (content: Awaited<ReturnType<MockLanguageModelV4['doGenerate']>>['content']) =>
    ({
      content,
      finishReason: {
        unified: content[0]?.type === 'text' ? 'stop' : 'tool-calls',
        raw: undefined,
      },
      usage,
      warnings: [],
    }) as Awaited<ReturnType<MockLanguageModelV4['doGenerate']>>;

  it('the model is sent the image as a file part and the text as text; the app gets the ToolResultContent', async () => {
    const model = new MockLanguageModelV4({
      doGenerate: [
        turn([{ type: 'tool-call', toolCallId: 'call-1', toolName: 'snap', input: '{}' }]),
        turn([{ type: 'text', text: 'A red dot.' }]),
      ],
    });
    const result = await generateText({
      model,
      tools: aiSdkTools(proxy),
      prompt: 'look',
      stopWhen: stepCountIs(3),
    });
    expect(result.text).toBe('A red dot.');
    const toolResult = result.steps[0]?.content.find((part) => part.type === 'tool-result');
    expect(isToolResultContent(toolResult?.output)).toBe(true);
    expect(toolResult?.output).toMatchObject({ structured: { width: 1, height: 1 } });
    const sent = model.doGenerateCalls[1]?.prompt.find((message) => message.role === 'tool');
    expect(sent?.content).toEqual([
      expect.objectContaining({
        type: 'tool-result',
        output: {
          type: 'content',
          value: [
            { type: 'file', mediaType: 'image/png', data: { type: 'data', data: PNG } },
            { type: 'text', text: 'a red dot' },
          ],
        },
      }),
    ]);
  });

  it('toModelOutput: every block kind; links as text, never a URL to fetch', () => {
    const output = toModelOutput(toolContent([audio, textResource, blobResource, link]));
    expect(output).toEqual({
      type: 'content',
      value: [
        { type: 'file', mediaType: 'audio/wav', data: { type: 'data', data: WAV } },
        { type: 'text', text: 'Resource <test://embedded-resource>:\nembedded text' },
        {
          type: 'file',
          mediaType: 'application/octet-stream',
          data: { type: 'data', data: 'AAECAw==' },
        },
        {
          type: 'text',
          text: 'Resource link: Frame 7 (7.png) <https://robot.test/frames/7.png> [image/png]: the camera frame',
        },
      ],
    });
  });

  it('toModelOutput: the JSON of a stored chat is content again; plain outputs as the SDK sends them', () => {
    const stored: unknown = JSON.parse(
      JSON.stringify(new ToolResultContent([{ type: 'text', text: 'hi' }], { a: 1 })),
    );
    expect(toModelOutput(stored)).toEqual({
      type: 'content',
      value: [{ type: 'text', text: 'hi' }],
    });
    expect(toModelOutput('hi')).toEqual({ type: 'text', value: 'hi' });
    expect(toModelOutput({ x: 40 })).toEqual({ type: 'json', value: { x: 40 } });
    expect(toModelOutput(null)).toEqual({ type: 'json', value: null });
    // Not the JSON of a ToolResultContent: another key, or blocks that are not valid.
    const other = { content: [{ type: 'text', text: 'hi' }], more: 1 };
    expect(toModelOutput(other)).toEqual({ type: 'json', value: other });
    const invalid = { content: [{ type: 'image', data: '!', mimeType: 'image/png' }] };
    expect(toModelOutput(invalid)).toEqual({ type: 'json', value: invalid });
  });
});

describe('LiveKit Agents: content as one text', () => {
  it('contentAsText: text as it is, media and blobs described by MIME type and decoded size', () => {
    expect(
      contentAsText(
        toolContent([
          { type: 'text', text: 'all of it' },
          image,
          audio,
          textResource,
          blobResource,
          link,
        ]).content,
      ),
    ).toBe(
      [
        'all of it',
        '[image: image/png, 70 bytes]',
        '[audio: audio/wav, 44 bytes]',
        '[resource test://embedded-resource]\nembedded text',
        '[resource file:///arm.bin: application/octet-stream, 4 bytes]',
        '[link Frame 7 <https://robot.test/frames/7.png>, image/png]: the camera frame',
      ].join('\n\n'),
    );
  });

  it('the LLM gets that text as the tool output in a real AgentSession', async () => {
    const session = new voice.AgentSession({
      llm: new voice.testing.FakeLLM([{ input: 'look', toolCalls: [{ name: 'snap', args: {} }] }]),
    });
    const agent = new voice.Agent({
      instructions: 'You look.',
      tools: Object.values(liveKitAgentTools(proxy)),
    });
    try {
      await session.start({ agent });
      const run = await session.run({ userInput: 'look' }).wait();
      const outputs = run.events.filter((event) => event.type === 'function_call_output');
      expect(outputs.map(({ item }) => [item.output, item.isError])).toEqual([
        [JSON.stringify('[image: image/png, 70 bytes]\n\na red dot'), false],
      ]);
    } finally {
      await session.close();
    }
  });
});
