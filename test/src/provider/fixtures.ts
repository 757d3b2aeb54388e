/**
 * What the ToolProvider tests share: a raw proxy peer and a provider in an in-memory room, tools
 * the test settles or aborts, an event recorder, and cleanup of whatever a test opened.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../../bridge/memory.js';
import {
  defineTool,
  type ProviderEvents,
  type ToolContext,
  type ToolDefinition,
  ToolProvider,
  type ToolProviderOptions,
} from '../../../src/index.js';
import { type Deferred, deferred, flush } from '../../support/util.js';
import { WirePeer } from '../../support/wire-peer.js';

export const PROVIDER = 'robot';

interface Run {
  readonly args: unknown;
  readonly ctx: ToolContext;
  readonly done: Deferred<unknown>;
}

/** A tool whose every run waits until the test settles it. */
export function controlledTool(name = 'slow') {
  const runs: Run[] = [];
  const tool = defineTool({
    name,
    description: 'waits until the test settles it',
    input: z.object({ n: z.number().optional() }),
    handler: (args, ctx) => {
      const done = deferred();
      runs.push({ args, ctx, done });
      return done.promise;
    },
  });
  return { tool, runs };
}

/** A tool that rejects with its signal's reason as soon as it is aborted. */
export function abortableTool(name = 'abortable') {
  const signals: AbortSignal[] = [];
  const tool = defineTool({
    name,
    description: 'runs until aborted',
    input: z.object({}),
    handler: (_args, { signal }) =>
      new Promise((_resolve, reject) => {
        signals.push(signal);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
  });
  return { tool, signals };
}

export const echo = defineTool({
  name: 'echo',
  description: 'Echoes its text',
  input: z.object({ text: z.string() }),
  handler: ({ text }) => ({ text }),
});

export const add = defineTool({
  name: 'add',
  description: 'Adds two numbers',
  input: z.object({ a: z.number(), b: z.number() }),
  handler: ({ a, b }) => a + b,
});

export function nth<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined)
    throw new Error(`expected an item at index ${index}, have ${items.length}`);
  return item;
}

/** Records every event of a provider, in order. */
export function recordEvents(provider: ToolProvider) {
  const log: Array<{ event: keyof ProviderEvents; payload: unknown }> = [];
  const names: Array<keyof ProviderEvents> = [
    'registered',
    'registration-failed',
    'call:started',
    'call:aborted',
    'call:finished',
  ];
  for (const event of names) provider.events.on(event, (payload) => log.push({ event, payload }));
  return log;
}

const cleanups: Array<() => Promise<void>> = [];

export function track<T extends { close(): Promise<void> }>(closable: T): T {
  cleanups.push(() => closable.close());
  return closable;
}

/** Fake timers for every test of the file, and closing what `track` was given after each. */
export function useFakeTimersAndCleanup(): void {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    vi.useRealTimers();
  });
}

/** A raw proxy peer `proxy` in a room, and a provider `robot` connected after it. */
export async function setup(
  tools: readonly ToolDefinition[],
  options: Partial<ToolProviderOptions> = {},
) {
  const room = new InMemoryRoom();
  const peer = await WirePeer.join(room, 'proxy', { isAgent: true });
  const provider = track(new ToolProvider({ ...options, tools }));
  await provider.connect(room.join(PROVIDER));
  await flush();
  return { room, peer, provider };
}
