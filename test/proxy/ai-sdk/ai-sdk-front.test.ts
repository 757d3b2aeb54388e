/**
 * The Vercel AI SDK front with the real `ai` package: `generateText` with the SDK's mock language
 * model calls tools a real ToolProvider registered with a real ToolProxy on an in-memory room.
 */
import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AiSdkToolError,
  aiSdkTools,
  toAiSdkError,
  UnexpectedToolError,
} from '../../../proxy/ai-sdk/index.js';
import { UNEXPECTED_FAILURE_TEXT } from '../../../proxy/kit/index.js';
import type { ToolProvider, ToolProxy } from '../../../src/index.js';
import { type CallInfo, defineTool, isToolProxyError, ToolProxyError } from '../../../src/index.js';
import { deferred } from '../../support/util.js';
import { echoTool, failTool, robotWorld } from '../../support/robot-world.js';

type ModelResult = Awaited<ReturnType<MockLanguageModelV4['doGenerate']>>;
type ModelCall = MockLanguageModelV4['doGenerateCalls'][number];

const usage: ModelResult['usage'] = {
  inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 5, text: 5, reasoning: 0 },
};

/** A model turn that calls one tool. */
function callsTool(toolName: string, input: unknown): ModelResult {
  return {
    content: [{ type: 'tool-call', toolCallId: 'call-1', toolName, input: JSON.stringify(input) }],
    finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
    usage,
    warnings: [],
  };
}

function says(text: string): ModelResult {
  return {
    content: [{ type: 'text', text }],
    finishReason: { unified: 'stop', raw: 'stop' },
    usage,
    warnings: [],
  };
}

/** The tool message the model was sent in `call`. */
function toolMessageIn(call: ModelCall | undefined) {
  return call?.prompt.find((message) => message.role === 'tool');
}

let proxy: ToolProxy;
let robot: ToolProvider;
let hold: {
  started: ReturnType<typeof deferred<void>>;
  release: ReturnType<typeof deferred<unknown>>;
  aborted: ReturnType<typeof deferred<unknown>>;
};

beforeEach(async () => {
  hold = { started: deferred(), release: deferred(), aborted: deferred() };
  ({ proxy, robot } = await robotWorld([
    echoTool,
    defineTool({
      name: 'pose',
      description: 'Where the arm is',
      input: z.object({}),
      handler: () => ({ x: 40, y: 12 }),
    }),
    failTool,
    defineTool({
      name: 'hold',
      description: 'Runs until released or aborted',
      input: z.object({}),
      handler: (_args, { signal }) => {
        const current = hold;
        signal.addEventListener('abort', () => current.aborted.resolve(signal.reason), {
          once: true,
        });
        current.started.resolve();
        return current.release.promise;
      },
    }),
  ]));
});

afterEach(async () => {
  hold.release.resolve('released by the test teardown');
  await robot.close();
  await proxy.close();
});

describe('aiSdkTools', () => {
  it('one dynamic tool per proxy tool; the model is offered the provider schema', async () => {
    const tools = aiSdkTools(proxy);
    expect(Object.keys(tools)).toEqual(proxy.tools().map((tool) => tool.name));
    expect(tools.echo).toMatchObject({ type: 'dynamic', description: 'Echo the text back' });
    const model = new MockLanguageModelV4({ doGenerate: [says('nothing to do')] });
    await generateText({ model, tools, prompt: 'look around' });
    const offered = model.doGenerateCalls[0]?.tools ?? [];
    expect(offered.map((tool) => tool.name)).toEqual(['echo', 'fail', 'hold', 'pose']);
    for (const tool of offered) {
      expect(tool).toMatchObject({
        type: 'function',
        description: proxy.getTool(tool.name)?.description,
        inputSchema: proxy.getTool(tool.name)?.inputSchema,
      });
    }
  });

  it('offers only the tools the filter keeps', () => {
    expect(Object.keys(aiSdkTools(proxy, { filter: (tool) => tool.name === 'echo' }))).toEqual([
      'echo',
    ]);
  });
});

describe('generateText with the mock model', () => {
  it('the result reaches the model in the next step, and the final text comes back', async () => {
    const started: CallInfo[] = [];
    proxy.hooks.on('call:started', (call) => started.push(call));
    const model = new MockLanguageModelV4({
      doGenerate: [callsTool('pose', {}), says('The arm is at (40, 12).')],
    });
    const result = await generateText({
      model,
      tools: aiSdkTools(proxy, { sessionKey: 'chat-1' }),
      prompt: 'Where is the arm?',
      stopWhen: stepCountIs(3),
    });
    expect(result.text).toBe('The arm is at (40, 12).');
    expect(result.steps[0]?.content).toContainEqual(
      expect.objectContaining({
        type: 'tool-result',
        toolName: 'pose',
        output: { x: 40, y: 12 },
        dynamic: true,
      }),
    );
    expect(toolMessageIn(model.doGenerateCalls[1])?.content).toEqual([
      expect.objectContaining({
        type: 'tool-result',
        toolCallId: 'call-1',
        output: { type: 'json', value: { x: 40, y: 12 } },
      }),
    ]);
    expect(started.map((call) => call.sessionKey)).toEqual(['chat-1']);
  });

  it('a provider error becomes a tool-error part; the model reads the proxy message, exactly', async () => {
    const model = new MockLanguageModelV4({
      doGenerate: [callsTool('fail', {}), says('The gripper is jammed.')],
    });
    const result = await generateText({
      model,
      tools: aiSdkTools(proxy),
      prompt: 'Grab it',
      stopWhen: stepCountIs(3),
    });
    const part = result.steps[0]?.content.find((item) => item.type === 'tool-error');
    expect(part?.error).toBeInstanceOf(AiSdkToolError);
    expect(isToolProxyError(part?.error, 'REMOTE_ERROR')).toBe(true);
    const message = part?.error instanceof Error ? part.error.message : '';
    expect(message).toMatch(/^Tool "fail" failed: .*gripper jammed/);
    expect(toolMessageIn(model.doGenerateCalls[1])?.content).toEqual([
      expect.objectContaining({
        type: 'tool-result',
        output: { type: 'error-text', value: message },
      }),
    ]);
    expect(result.text).toBe('The gripper is jammed.');
  });

  it('arguments the schema rejects: the model reads INVALID_ARGUMENTS, nothing reaches the provider', async () => {
    const model = new MockLanguageModelV4({
      doGenerate: [callsTool('echo', { text: 5 }), says('Sorry.')],
    });
    await generateText({
      model,
      tools: aiSdkTools(proxy),
      prompt: 'echo',
      stopWhen: stepCountIs(3),
    });
    expect(toolMessageIn(model.doGenerateCalls[1])?.content).toEqual([
      expect.objectContaining({
        output: {
          type: 'error-text',
          value: expect.stringMatching(/^Invalid arguments for tool "echo"/),
        },
      }),
    ]);
    expect(proxy.stats()).toMatchObject({ calls: { rejectedBeforeSend: 1 } });
  });

  it('aborting generateText while the tool runs cancels the call at the provider', async () => {
    const controller = new AbortController();
    const model = new MockLanguageModelV4({ doGenerate: [callsTool('hold', {}), says('never')] });
    const generation = generateText({
      model,
      tools: aiSdkTools(proxy),
      prompt: 'Hold on',
      stopWhen: stepCountIs(3),
      abortSignal: controller.signal,
    });
    const outcome = generation.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await hold.started.promise;
    expect(proxy.pendingCalls).toBe(1);
    controller.abort('the user pressed stop');
    await expect(outcome).resolves.toBe('the user pressed stop');
    await expect(hold.aborted.promise).resolves.toMatchObject({
      code: 'CANCELLED',
      reason: 'caller-aborted',
      detail: 'the user pressed stop',
    });
    expect(proxy.pendingCalls).toBe(0);
    expect(proxy.watchedSignals).toBe(0);
    expect(model.doGenerateCalls).toHaveLength(1);
  });
});

describe('toAiSdkError', () => {
  it('keeps code, reason and message, with the original as cause; its text is the message alone', () => {
    const original = new ToolProxyError('CANCELLED', 'The call was cancelled.', {
      tool: 'hold',
      reason: 'session-ended',
      detail: 'bye',
    });
    const error = toAiSdkError(original);
    expect(error).toBeInstanceOf(AiSdkToolError);
    expect(error).toMatchObject({
      code: 'CANCELLED',
      reason: 'session-ended',
      detail: 'bye',
      tool: 'hold',
      message: 'The call was cancelled.',
      cause: original,
    });
    expect(String(error)).toBe('The call was cancelled.');
  });

  it('an unexpected throw becomes the generic text, its detail kept only as cause', () => {
    const cause = new Error('internal detail');
    const error = toAiSdkError(cause);
    expect(error).toBeInstanceOf(UnexpectedToolError);
    expect(String(error)).toBe(UNEXPECTED_FAILURE_TEXT);
    expect(error.cause).toBe(cause);
  });
});
