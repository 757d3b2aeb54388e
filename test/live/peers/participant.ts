/**
 * A participant in its own process, to be killed: `provider` offers `hold` (runs until aborted,
 * prints `aborted <reason>`), `proxy` runs a ToolProxy and calls `hold` once the tool appears.
 * Prints `ready` when its part is set up. Env: LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET,
 * ROOM, ROLE.
 */
import { Room } from '@livekit/rtc-node';
import { z } from 'zod';
import { LiveKitAgentChannel, mintProviderToken } from '../../../bridge/livekit/index.js';
import { rtcProviderChannel } from '../../../bridge/livekit/node-provider.js';
import { defineTool, ToolProvider, ToolProxy } from '../../../src/index.js';

const {
  LIVEKIT_URL: url = '',
  LIVEKIT_API_KEY: apiKey = '',
  LIVEKIT_API_SECRET: apiSecret = '',
} = process.env;
const room = process.env.ROOM ?? 'death';

if (process.env.ROLE === 'provider') {
  const participant = new Room();
  const token = await mintProviderToken({ apiKey, apiSecret, room, identity: 'robot' });
  await participant.connect(url, token, { autoSubscribe: false, dynacast: false });
  const provider = new ToolProvider({
    tools: [
      defineTool({
        name: 'hold',
        description: 'runs until aborted',
        input: z.object({}),
        handler: (_args, { signal }) =>
          new Promise((resolve) => {
            console.log('started');
            signal.addEventListener('abort', () => {
              console.log(`aborted ${(signal.reason as Error).message}`);
              resolve('aborted');
            });
          }),
      }),
    ],
  });
  await provider.connect(rtcProviderChannel(participant));
  console.log('ready');
} else {
  const proxy = new ToolProxy();
  await proxy.start(
    new LiveKitAgentChannel({ url, apiKey, apiSecret, room, identity: 'toolproxy-agent' }),
  );
  await proxy.waitForTool('hold');
  console.log('ready');
  await proxy.call('hold', {}, { timeoutMs: 120_000 });
}
