/**
 * Rich results on the wire: the `content` field of `client:tool-result` (its schema, what a
 * malformed one does to the call), what `proxy.call()` resolves with, and what the provider
 * runtime sends for a handler that returns `toolContent(...)`.
 */
import { ContentBlockSchema as McpContentBlockSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { InMemoryRoom } from '../../../bridge/memory.js';
import {
  type ContentBlockInput,
  decodeFrame,
  defineTool,
  isToolResultContent,
  toolContent,
  ToolProvider,
  type ToolProxy,
  ToolResultContent,
} from '../../../src/index.js';
import { base64Bytes } from '../../../src/protocol/content-blocks.js';
import { ProviderFrameSchemas } from '../../../src/protocol/frames.js';
import { flush } from '../../support/util.js';
import { startProxy, WirePeer } from '../../support/wire-peer.js';

/** A 1×1 PNG. */
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==';

const EVERY_KIND: ContentBlockInput[] = [
  { type: 'text', text: 'hé 👋' },
  { type: 'image', data: PNG, mimeType: 'image/png' },
  { type: 'audio', data: 'UklGRg==', mimeType: 'audio/wav' },
  { type: 'resource', resource: { uri: 'test://doc', mimeType: 'text/plain', text: 'a note' } },
  { type: 'resource', resource: { uri: 'file:///a.bin', blob: 'AAEC' } },
  {
    type: 'resource_link',
    uri: 'https://example.test/a.png',
    name: 'a.png',
    title: 'A picture',
    description: 'the arm from above',
    mimeType: 'image/png',
    size: 67,
  },
];

function parseContent(content: unknown) {
  return decodeFrame(
    JSON.stringify({ type: 'client:tool-result', call_id: 'tc_1', content }),
    ProviderFrameSchemas,
  );
}

describe('the content schema', () => {
  it('accepts every block kind, and each also passes the MCP SDK schema', () => {
    const decoded = parseContent(EVERY_KIND);
    expect(decoded).toMatchObject({ ok: true, frame: { content: EVERY_KIND } });
    for (const block of EVERY_KIND)
      expect(McpContentBlockSchema.safeParse(block).success).toBe(true);
  });

  it('keeps annotations, drops _meta and unknown keys; content: null is absent', () => {
    const annotations = { audience: ['user'], priority: 0.5, lastModified: '2025-06-18T10:00:00Z' };
    const decoded = parseContent([
      { type: 'text', text: 'x', annotations, _meta: { a: 1 }, extra: true },
    ]);
    expect(decoded).toMatchObject({
      ok: true,
      frame: { content: [{ type: 'text', text: 'x', annotations }] },
    });
    expect(
      decoded.ok && decoded.frame.type === 'client:tool-result' && decoded.frame.content?.[0],
    ).not.toHaveProperty('_meta');
    expect(parseContent(null)).toMatchObject({ ok: true, frame: { content: null } });
  });

  it.each<[string, unknown, string]>([
    ['an empty list', [], 'content'],
    ['65 blocks', Array.from({ length: 65 }, () => ({ type: 'text', text: 'x' })), 'content'],
    ['not a list', { type: 'text', text: 'x' }, 'content'],
    ['an unknown type', [{ type: 'video', data: PNG }], 'content.0.type'],
    ['text that is not a string', [{ type: 'text', text: 5 }], 'content.0.text'],
    [
      'base64 with a bad character',
      [{ type: 'image', data: 'iVB*', mimeType: 'image/png' }],
      'content.0.data',
    ],
    [
      'unpadded base64',
      [{ type: 'image', data: 'iVBORw0', mimeType: 'image/png' }],
      'content.0.data',
    ],
    [
      'a data: URL',
      [{ type: 'image', data: `data:image/png;base64,${PNG}`, mimeType: 'image/png' }],
      'content.0.data',
    ],
    ['empty image data', [{ type: 'image', data: '', mimeType: 'image/png' }], 'content.0.data'],
    [
      'an image with an audio type',
      [{ type: 'image', data: PNG, mimeType: 'audio/wav' }],
      'content.0.mimeType',
    ],
    [
      'a MIME type that is not one',
      [{ type: 'audio', data: PNG, mimeType: 'wav' }],
      'content.0.mimeType',
    ],
    [
      'a resource with text and blob',
      [{ type: 'resource', resource: { uri: 'a:b', text: 'x', blob: 'AA==' } }],
      'content.0.resource',
    ],
    [
      'a resource with neither',
      [{ type: 'resource', resource: { uri: 'a:b' } }],
      'content.0.resource',
    ],
    [
      'a resource without a scheme',
      [{ type: 'resource', resource: { uri: 'doc.txt', text: 'x' } }],
      'content.0.resource.uri',
    ],
    [
      'a link without a name',
      [{ type: 'resource_link', uri: 'https://a.test/' }],
      'content.0.name',
    ],
    [
      'a priority over 1',
      [{ type: 'text', text: 'x', annotations: { priority: 2 } }],
      'content.0.annotations.priority',
    ],
    [
      'a date that is not ISO 8601',
      [{ type: 'text', text: 'x', annotations: { lastModified: 'yesterday' } }],
      'content.0.annotations.lastModified',
    ],
  ])('refuses %s', (_what, content, field) => {
    const decoded = parseContent(content);
    expect(decoded).toMatchObject({ ok: false, problem: 'invalid', field: 'content' });
    expect(decoded.ok ? '' : decoded.error).toContain(`${field}:`);
  });

  it('checks a 1 MB base64 string in one linear pass', () => {
    const data = 'QUJD'.repeat(200_000);
    expect(parseContent([{ type: 'image', data, mimeType: 'image/png' }]).ok).toBe(true);
    expect(parseContent([{ type: 'image', data: `${data}!`, mimeType: 'image/png' }]).ok).toBe(
      false,
    );
  });

  it('base64Bytes is the decoded size', () => {
    for (const bytes of [0, 1, 2, 3, 4, 5, 600_000]) {
      expect(base64Bytes(Buffer.alloc(bytes, 7).toString('base64'))).toBe(bytes);
    }
  });
});

describe('toolContent and ToolResultContent', () => {
  it('validates, strips unknown keys, and names the bad block', () => {
    const made = toolContent([{ type: 'text', text: 'x', _meta: {} } as ContentBlockInput], {
      n: 1,
    });
    expect(made.content).toEqual([{ type: 'text', text: 'x' }]);
    expect(made.structured).toEqual({ n: 1 });
    expect(() => toolContent([{ type: 'image', data: 'nope!', mimeType: 'image/png' }])).toThrow(
      expect.objectContaining({
        code: 'INVALID_RESULT',
        message: expect.stringContaining('content.0.data'),
      }),
    );
  });

  it('JSON is {content, structured?}; parsed JSON never passes for content', () => {
    const withValue = new ToolResultContent([{ type: 'text', text: 'x' }], [1]);
    expect(JSON.parse(JSON.stringify(withValue))).toEqual({
      content: [{ type: 'text', text: 'x' }],
      structured: [1],
    });
    expect(JSON.stringify(new ToolResultContent([{ type: 'text', text: 'x' }]))).toBe(
      '{"content":[{"type":"text","text":"x"}]}',
    );
    expect(isToolResultContent(withValue)).toBe(true);
    expect(isToolResultContent(JSON.parse(JSON.stringify(withValue)))).toBe(false);
    expect(isToolResultContent({ content: [], structured: 1 })).toBe(false);
    expect(Object.isFrozen(withValue.content)).toBe(true);
  });
});

describe('the proxy: a result with content', () => {
  let room: InMemoryRoom;
  let proxy: ToolProxy;
  let robot: WirePeer;

  beforeEach(async () => {
    ({ room, proxy } = await startProxy());
    robot = await WirePeer.join(room, 'robot');
    await robot.register('look');
    await proxy.waitForTool('look');
  });

  afterEach(() => proxy.close());

  async function answer(frame: Record<string, unknown>): Promise<unknown> {
    const call = proxy.call('look');
    await flush();
    await robot.send({
      type: 'client:tool-result',
      call_id: robot.callId(robot.calls().length - 1),
      ...frame,
    });
    return call;
  }

  it('without content (v0.3): the plain result, exactly as before', async () => {
    await expect(answer({ result: { x: 1 } })).resolves.toEqual({ x: 1 });
    await expect(answer({})).resolves.toBeNull();
    // A plain result shaped like content is still a plain result.
    const lookalike = { content: [{ type: 'text', text: 'x' }] };
    const value = await answer({ result: lookalike });
    expect(value).toEqual(lookalike);
    expect(isToolResultContent(value)).toBe(false);
  });

  it('with content: a ToolResultContent, `result` as the structured value', async () => {
    const value = await answer({ content: EVERY_KIND, result: { width: 1 } });
    expect(value).toBeInstanceOf(ToolResultContent);
    expect(value).toMatchObject({ content: EVERY_KIND, structured: { width: 1 } });
    const bare = await answer({ content: [{ type: 'text', text: 'only' }] });
    expect(bare).toMatchObject({
      content: [{ type: 'text', text: 'only' }],
      structured: undefined,
    });
    await expect(answer({ content: null, result: 3 })).resolves.toBe(3);
  });

  it('an error wins over content', async () => {
    await expect(answer({ content: EVERY_KIND, error: 'camera off' })).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      message: expect.stringContaining('camera off'),
    });
  });

  it('malformed content ends the call at once as INVALID_RESULT, naming the field', async () => {
    const before = proxy.stats().frames.malformed;
    await expect(
      answer({
        content: [{ type: 'image', data: 'not base64!', mimeType: 'image/png' }],
        result: 1,
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_RESULT',
      message: expect.stringContaining('content.0.data'),
    });
    expect(proxy.stats().frames.malformed).toBe(before + 1);
    expect(proxy.pendingCalls).toBe(0);
  });
});

describe('the provider runtime: a handler returning toolContent', () => {
  let room: InMemoryRoom;
  let proxy: WirePeer;
  let provider: ToolProvider;

  beforeEach(async () => {
    ({ room } = await startProxy({}, 'real-agent'));
    proxy = await WirePeer.join(room, 'agent', { isAgent: true });
    provider = new ToolProvider({
      maxFrameChars: 10_000,
      tools: [
        defineTool({
          name: 'snap',
          description: 'a picture',
          input: z.object({ data: z.string(), bad: z.boolean().default(false) }),
          handler: ({ data, bad }) =>
            toolContent([{ type: 'image', data: bad ? 'x' : data, mimeType: 'image/png' }], {
              w: 1,
            }),
        }),
        defineTool({
          name: 'bare',
          description: 'content only',
          input: z.object({}),
          handler: () => toolContent([{ type: 'text', text: 'hi' }]),
        }),
      ],
    });
    await provider.connect(room.join('robot'));
    await flush();
  });

  afterEach(() => provider.close());

  let calls = 0;
  /** Calls `name` as the proxy would, and returns the text of the provider's answer. */
  async function resultOf(name: string, args: Record<string, unknown>): Promise<string> {
    const callId = `tc_${++calls}`;
    await proxy.call('robot', callId, name, args);
    for (let i = 0; i < 5; i++) await flush();
    return proxy.received.find((frame) => frame.frame?.call_id === callId)?.text ?? '';
  }

  it('sends type, call_id, content, then result', async () => {
    expect(await resultOf('snap', { data: PNG })).toBe(
      `{"type":"client:tool-result","call_id":"tc_${calls}","content":[{"type":"image","data":"${PNG}","mimeType":"image/png"}],"result":{"w":1}}`,
    );
    expect(JSON.parse(await resultOf('bare', {}))).toEqual({
      type: 'client:tool-result',
      call_id: `tc_${calls}`,
      content: [{ type: 'text', text: 'hi' }],
    });
  });

  it('a bad block is the handler error, naming the field; content over the frame cap, an error that says what to do', async () => {
    expect(JSON.parse(await resultOf('snap', { data: PNG, bad: true }))).toMatchObject({
      error: expect.stringContaining('content.0.data'),
    });
    const big = 'QUJD'.repeat(3_000);
    const answer = JSON.parse(await resultOf('snap', { data: big }));
    expect(answer).not.toHaveProperty('content');
    expect(answer.error).toMatch(/a frame holds at most 10000 .*resource_link/);
  });
});
