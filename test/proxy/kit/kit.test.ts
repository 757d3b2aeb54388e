/** The kit the framework fronts share, on its own: a real proxy and robot, fake timers. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  argumentsOf,
  buildToolSet,
  failureText,
  objectSchema,
  offeredTools,
  UNEXPECTED_FAILURE_TEXT,
  watchToolList,
} from '../../../proxy/kit/index.js';
import { defineTool, type ExposedTool, systemTimers, ToolProvider } from '../../../src/index.js';
import { echoTool, failTool, type RobotWorld, robotWorld } from '../../support/robot-world.js';

let world: RobotWorld;

beforeEach(async () => {
  world = await robotWorld([echoTool, failTool]);
});
afterEach(async () => {
  vi.useRealTimers();
  await world.robot.close();
  await world.proxy.close();
});

describe('failureText', () => {
  it("is the proxy's own message for a ToolProxyError, and the honest generic text otherwise", async () => {
    const error: unknown = await world.proxy.call('nope').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'TOOL_NOT_FOUND' });
    expect(failureText(error)).toBe((error as Error).message);
    expect(failureText(new Error('internal detail'))).toBe(UNEXPECTED_FAILURE_TEXT);
    expect(failureText('a string')).toBe(UNEXPECTED_FAILURE_TEXT);
  });
});

describe('objectSchema', () => {
  it('is a copy: changing it leaves the registry’s schema alone', () => {
    const echo = world.proxy.getTool('echo') as ExposedTool;
    const schema = objectSchema<{ type: string; properties: Record<string, unknown> }>(echo);
    expect(schema).toMatchObject({ type: 'object', properties: { text: { type: 'string' } } });
    schema.properties.text = { type: 'number' };
    expect(world.proxy.getTool('echo')?.inputSchema).toMatchObject({
      properties: { text: { type: 'string' } },
    });
  });

  it('refuses a schema that is not of an object, naming the tool', () => {
    const odd = { name: 'odd', inputSchema: { type: 'string' } } as unknown as ExposedTool;
    expect(() => objectSchema(odd)).toThrow(
      'Tool "odd": the input schema is not a JSON Schema of an object',
    );
  });
});

describe('argumentsOf', () => {
  it('takes a JSON object as it is and refuses anything else with INVALID_ARGUMENTS', () => {
    expect(argumentsOf('echo', { text: 'hi' })).toEqual({ text: 'hi' });
    for (const input of [null, [1], 'text', 3])
      expect(() => argumentsOf('echo', input)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENTS' }),
      );
  });
});

describe('offeredTools and buildToolSet', () => {
  it('offer what the filter lets through, each built by the front, keyed by name', () => {
    expect(offeredTools(world.proxy).map((tool) => tool.name)).toEqual(['echo', 'fail']);
    const set = buildToolSet(
      world.proxy,
      (tool) => tool.name !== 'fail',
      (tool) => tool.description,
    );
    expect(set).toEqual({ echo: 'Echo the text back' });
  });
});

describe('watchToolList', () => {
  it('notifies once per burst of changes, at the end of the window, and not after it stops', async () => {
    vi.useFakeTimers();
    const notify = vi.fn();
    const stop = watchToolList(world.proxy, { debounceMs: 100, timers: systemTimers, notify });
    const late = new ToolProvider({
      tools: [
        defineTool({ name: 'a', description: 'a', input: z.object({}), handler: () => 1 }),
        defineTool({ name: 'b', description: 'b', input: z.object({}), handler: () => 2 }),
      ],
    });
    await late.connect(world.room.join('late'));
    await world.proxy.waitForTool('b');
    expect(notify).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(100);
    expect(notify).toHaveBeenCalledTimes(1);
    stop();
    await late.close();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(notify).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
