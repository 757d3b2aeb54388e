/**
 * A ToolProvider whose one tool, `hold`, runs until the proxy gives up on the call (or the
 * connection goes): for tests that need calls pending at the provider. It records why each call
 * was aborted, and how many registrations the proxy answered.
 */
import { z } from 'zod';
import { defineTool, ToolProvider } from '../../src/index.js';
import { deferred } from './util.js';

export interface HoldingProvider {
  readonly provider: ToolProvider;
  /** The abort reason of each call, in order. */
  readonly aborts: unknown[];
  /** Resolves when the first call starts running. */
  readonly started: Promise<unknown>;
  /** `agent:tool-registered` successes so far (a reconnect adds more). */
  registrations(): number;
}

export function holdingProvider(): HoldingProvider {
  const aborts: unknown[] = [];
  const started = deferred();
  let registrations = 0;
  const provider = new ToolProvider({
    tools: [
      defineTool({
        name: 'hold',
        description: 'runs until aborted',
        input: z.object({}),
        handler: (_args, { signal }) => {
          started.resolve(undefined);
          return new Promise((resolve) => {
            signal.addEventListener('abort', () => {
              aborts.push(signal.reason);
              resolve('aborted');
            });
          });
        },
      }),
    ],
  });
  provider.events.on('registered', () => {
    registrations++;
  });
  return { provider, aborts, started: started.promise, registrations: () => registrations };
}
