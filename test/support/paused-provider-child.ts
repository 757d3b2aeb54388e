/**
 * A provider in its own process, for test/faults/paused-provider.test.ts: connects to a `serve`
 * bridge and offers `hold` (runs until aborted) and `actuate` (the side effect). Every handler
 * start, stale refusal and abort is appended to the journal file as one JSON line, so the test can
 * tell what ran even while this process is stopped. Usage: <bridge url> <token> <journal file>.
 */
import { appendFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { webSocketProviderChannel } from '../../bridge/websocket/provider.js';
import { defineTool, ToolProvider } from '../../src/index.js';

const [url, token, journal] = process.argv.slice(2);
if (url === undefined || token === undefined || journal === undefined)
  throw new Error('usage: paused-provider-child <bridge url> <token> <journal file>');

const note = (entry: object) =>
  appendFileSync(journal, `${JSON.stringify({ at: Date.now(), ...entry })}\n`);

const hold = defineTool({
  name: 'hold',
  description: 'runs until the call is aborted',
  input: z.object({}),
  handler: (_args, { signal, callId }) => {
    note({ event: 'ran', tool: 'hold', callId });
    return new Promise((_resolve, reject) =>
      signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
    );
  },
});

const actuate = defineTool({
  name: 'actuate',
  description: 'moves the robot: the action that must not happen twice',
  input: z.object({ step: z.number() }),
  handler: ({ step }, { callId }) => {
    note({ event: 'ran', tool: 'actuate', callId, step });
    return { moved: step };
  },
});

const provider = new ToolProvider({ tools: [hold, actuate] });
provider.events.on('call:stale', (event) => note({ event: 'stale', ...event }));
provider.events.on('call:aborted', ({ callId, name }) => note({ event: 'aborted', callId, name }));
provider.events.on('registered', ({ name }) => note({ event: 'registered', name }));
await provider.connect(
  webSocketProviderChannel({ url, token, WebSocket, reconnect: { initialDelayMs: 100 } }),
);
note({ event: 'connected', pid: process.pid });
process.on('SIGTERM', () => {
  void provider.close().finally(() => process.exit(0));
});
