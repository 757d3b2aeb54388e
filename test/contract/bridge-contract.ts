/**
 * The contract every bridge passes: the same calls, cancels and failures, end to end through a real
 * ToolProxy and a real ToolProvider, whatever carries the frames.
 */
import { afterEach, beforeEach, expect, type TestFunction, it as vitestIt, vi } from 'vitest';
import { z } from 'zod';
import { type ChannelHandlers, defineTool, ToolProvider, ToolProxy } from '../../src/index.js';
import { deferred } from '../support/util.js';
import type { BridgeWorld } from './world.js';

const quiet: ChannelHandlers = {
  onFrame: () => {},
  onPeerJoined: () => {},
  onPeerLeft: () => {},
  onConnected: () => {},
  onClosed: () => {},
};

interface Stage {
  world: BridgeWorld;
  proxy: ToolProxy;
  provider: ToolProvider;
  /** Settles the current `hold` call's handler. */
  release: ReturnType<typeof deferred<unknown>>;
  aborts: unknown[];
  /** How many `hold` handlers have started. */
  readonly holds: number;
  progressOf: (n: number) => void;
}

/**
 * `gaps`: cases a transport does not pass yet, by title, each with why; they are reported as
 * skipped with that reason rather than left out silently.
 */
export function bridgeContract(
  makeWorld: () => BridgeWorld,
  gaps: Readonly<Record<string, string>> = {},
): void {
  const it = (title: string, test: TestFunction) => {
    const gap = gaps[title];
    if (gap !== undefined) console.warn(`contract case skipped: ${title}: ${gap}`);
    vitestIt.skipIf(gap !== undefined)(title, test);
  };
  let stage: Stage;

  beforeEach(async () => {
    const world = makeWorld();
    const proxy = new ToolProxy();
    await proxy.start(world.proxyChannel());
    const aborts: unknown[] = [];
    const box = { release: deferred(), report: (_n: number) => {}, holds: 0 };
    const provider = new ToolProvider({
      maxFrameChars: world.maxFrameBytes,
      tools: [
        defineTool({
          name: 'echo',
          description: 'echo',
          input: z.object({ text: z.string() }),
          handler: ({ text }) => text,
        }),
        defineTool({
          name: 'fail',
          description: 'always fails',
          input: z.object({}),
          handler: () => {
            throw new Error('gripper jammed');
          },
        }),
        defineTool({
          name: 'hold',
          description: 'runs until released or aborted',
          input: z.object({}),
          handler: (_args, { signal, progress }) => {
            box.report = (n) => progress(n, 10, `step ${n}`);
            box.holds++;
            signal.addEventListener('abort', () => aborts.push(signal.reason), { once: true });
            return box.release.promise;
          },
        }),
        defineTool({
          name: 'dump',
          description: 'big result',
          input: z.object({ size: z.number() }),
          handler: ({ size }) => 'x'.repeat(size),
        }),
      ],
    });
    await provider.connect(await world.providerChannel('robot'));
    await world.settle();
    await proxy.waitForTool('hold');
    stage = {
      world,
      proxy,
      provider,
      aborts,
      get release() {
        return box.release;
      },
      get holds() {
        return box.holds;
      },
      progressOf: (n) => box.report(n),
    };
  });

  afterEach(async () => {
    vi.useRealTimers();
    await stage.provider.close();
    await stage.proxy.close();
    await stage.world.teardown();
  });

  it('registers the provider tools with the proxy', () => {
    expect(stage.proxy.tools().map((tool) => [tool.name, tool.provider])).toEqual([
      ['dump', 'robot'],
      ['echo', 'robot'],
      ['fail', 'robot'],
      ['hold', 'robot'],
    ]);
  });

  it('a call gets its result', async () => {
    await expect(stage.proxy.call('echo', { text: 'hé 👋' })).resolves.toBe('hé 👋');
  });

  it('a failing tool reaches the caller as REMOTE_ERROR', async () => {
    await expect(stage.proxy.call('fail')).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      message: expect.stringContaining('gripper jammed'),
    });
  });

  it('a call past its deadline times out, and the provider handler is aborted', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const timedOut = expect(
      stage.proxy.call('hold', {}, { timeoutMs: 5_000 }),
    ).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
    await stage.world.settle();
    await vi.advanceTimersByTimeAsync(5_000);
    vi.useRealTimers();
    await timedOut;
    await waitFor(() => stage.aborts.length === 1);
    expect(stage.aborts[0]).toMatchObject({ code: 'TIMEOUT' });
  });

  it('agent_loop_stopped cancels at once and the notice aborts the provider handler', async () => {
    const call = stage.proxy.call('hold', {}, { sessionKey: 'chat' });
    await stage.world.settle();
    stage.proxy.lifecycle('agent_loop_stopped', { session_key: 'chat', reason: 'Stop requested' });
    await expect(call).rejects.toMatchObject({ code: 'CANCELLED', reason: 'agent-loop-stopped' });
    await waitFor(() => stage.aborts.length === 1);
    expect(stage.aborts[0]).toMatchObject({
      code: 'CANCELLED',
      reason: 'agent-loop-stopped',
      detail: 'Stop requested',
    });
  });

  it('progress reaches the caller', async () => {
    const seen: number[] = [];
    const call = stage.proxy.call(
      'hold',
      {},
      { onProgress: (update) => seen.push(update.progress) },
    );
    // The handler, not just the frame: a real transport delivers the call before it runs.
    await waitFor(() => stage.holds === 1);
    stage.progressOf(1);
    stage.progressOf(2);
    await waitFor(() => seen.length === 2);
    stage.release.resolve('done');
    await expect(call).resolves.toBe('done');
    expect(seen).toEqual([1, 2]);
  });

  it('a provider leaving mid-call fails the call with PROVIDER_GONE and removes its tools', async () => {
    const gone = expect(stage.proxy.call('hold')).rejects.toMatchObject({ code: 'PROVIDER_GONE' });
    await stage.world.settle();
    await stage.world.dropProvider('robot');
    await gone;
    await waitFor(() => stage.proxy.tools().length === 0);
  });

  it('a spoofed result from another participant is dropped; the real one is taken', async () => {
    const stranger = await stage.world.strangerChannel('mallory');
    await stranger.start(quiet);
    const started = deferred<string>();
    stage.provider.events.on('call:started', ({ callId }) => started.resolve(callId));
    const call = stage.proxy.call('hold');
    const callId = await started.promise;
    const proxyIdentity = stage.world.proxyIdentity();
    await stranger.send(
      proxyIdentity,
      JSON.stringify({ type: 'client:tool-result', call_id: callId, result: 'forged' }),
    );
    await waitFor(() => stage.proxy.stats().results.spoofed === 1);
    stage.release.resolve('genuine');
    await expect(call).resolves.toBe('genuine');
    await stranger.close();
  });

  it('an oversize call frame is refused whole (ARGUMENTS_UNSENDABLE, not retryable); an oversize result comes back as an error', async () => {
    const huge = 'y'.repeat(stage.world.maxFrameBytes + 1);
    await expect(stage.proxy.call('echo', { text: huge })).rejects.toMatchObject({
      code: 'ARGUMENTS_UNSENDABLE',
      message: expect.stringContaining('smaller or simpler arguments'),
    });
    await expect(
      stage.proxy.call('dump', { size: stage.world.maxFrameBytes + 1 }),
    ).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      message: expect.stringContaining('a frame holds at most'),
    });
    // Frames above a single packet but under the maximum do arrive (text streams on LiveKit).
    await expect(stage.proxy.call('dump', { size: 40_000 })).resolves.toHaveLength(40_000);
  });

  it('a resumed connection cancels calls in flight honestly, and providers register again', async (context) => {
    const { world } = stage;
    if (world.resumeProxy === undefined) return context.skip('this transport has no resume');
    let registrations = 0;
    stage.provider.events.on('registered', () => {
      registrations++;
    });
    const interrupted = expect(stage.proxy.call('hold')).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'connection-interrupted',
    });
    await world.settle();
    await world.resumeProxy();
    await interrupted;
    // Long enough for a LiveKit seat to find a resume that carries no frames and rejoin (5 s),
    // and for the server to announce it (a 3 s tick); the doubles take no time.
    await waitFor(() => registrations >= 4, 15_000, 'providers registered again');
    await waitFor(() => stage.aborts.length === 1, 15_000, 'the provider was told to stop');
    await expect(stage.proxy.call('echo', { text: 'again' })).resolves.toBe('again');
  });
}

/** Polls real time briefly: for effects that cross an asynchronous transport. */
async function waitFor(condition: () => boolean, ms = 2_000, what = 'condition'): Promise<void> {
  await vi.waitFor(
    () => {
      if (!condition()) throw new Error(`${what} not met in ${ms} ms`);
    },
    { timeout: ms, interval: 5 },
  );
}
