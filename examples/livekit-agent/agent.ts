/**
 * A LiveKit voice agent whose tools include the ones the room's providers offer (the arm of
 * examples/robot-arm, the page of examples/browser-livekit). toolproxy takes its own seat in the
 * agent's room; the agent gets a toolset that follows the providers as they come and go, beside its
 * own tools; an interrupted answer cancels the call at the provider, and so does the session's end.
 *
 *   LIVEKIT_URL=wss://<project>.livekit.cloud LIVEKIT_API_KEY=… LIVEKIT_API_SECRET=… \
 *     npx tsx --conditions=toolproxy-source examples/livekit-agent/agent.ts dev
 */
import { fileURLToPath } from 'node:url';
import { cli, defineAgent, type JobContext, llm, ServerOptions, voice } from '@livekit/agents';
import { ToolProxy } from 'toolproxy';
import { LiveKitAgentChannel } from 'toolproxy/livekit';
import { bindAgentSession, liveKitAgentToolset } from 'toolproxy/livekit-agents';

/**
 * The models are your choice. These are LiveKit Inference model strings: LiveKit Cloud serves them,
 * with no other package. To call providers with your own keys (or with a self-hosted server), add
 * their plugins and return instances instead, for example:
 *
 *   npm install @livekit/agents-plugin-deepgram @livekit/agents-plugin-openai \
 *     @livekit/agents-plugin-cartesia @livekit/agents-plugin-silero
 *
 *   stt: new deepgram.STT(), llm: new openai.LLM({ model: 'gpt-4.1-mini' }),
 *   tts: new cartesia.TTS(), vad: await silero.VAD.load()
 */
function models(): Pick<voice.AgentSessionOptions, 'stt' | 'llm' | 'tts' | 'vad'> {
  return { stt: 'deepgram/nova-3:en', llm: 'openai/gpt-4.1-mini', tts: 'cartesia/sonic-3' };
}

/** A tool of the agent's own, to show that the room's tools come beside it, not instead of it. */
const getTime = llm.tool({
  name: 'get_time',
  description: 'The current date and time (ISO 8601, UTC).',
  execute: () => Promise.resolve(new Date().toISOString()),
});

const INSTRUCTIONS = [
  'You are a voice assistant in a room with devices and web pages that offer tools.',
  'Use them when the user asks for something they can do; keep answers short.',
  'If a tool call is cancelled or times out, say so: the action may still have happened.',
].join(' ');

/** The agent: its own tools plus the room's, kept current while it is active. */
export function createAgent(proxy: ToolProxy, sessionKey: string): voice.Agent {
  return new voice.Agent({
    instructions: INSTRUCTIONS,
    tools: [
      getTime,
      liveKitAgentToolset(proxy, { sessionKey, filter: (tool) => tool.name !== getTime.name }),
    ],
  });
}

/** The proxy's own seat in the agent's room (a second participant, of kind agent, data only). */
export async function joinToolproxy(room: string, identity: string): Promise<ToolProxy> {
  const proxy = new ToolProxy();
  await proxy.start(
    new LiveKitAgentChannel({
      url: env('LIVEKIT_URL'),
      apiKey: env('LIVEKIT_API_KEY'),
      apiSecret: env('LIVEKIT_API_SECRET'),
      room,
      identity,
      // rtc-node's dispose() is process-wide: it would also end the job's own connection.
      disposeOnClose: false,
    }),
  );
  return proxy;
}

export default defineAgent({
  entry: async (ctx: JobContext) => {
    await ctx.connect();
    const room = ctx.room.name;
    if (room === undefined) throw new Error('the job is connected, but its room has no name');
    const proxy = await joinToolproxy(room, `toolproxy-${ctx.job.id}`);
    ctx.addShutdownCallback(() => proxy.close()); // cancels what is still pending, tells providers
    const sessionKey = `livekit-job:${ctx.job.id}`;
    const session = new voice.AgentSession(models());
    bindAgentSession(session, proxy, sessionKey); // session closed → its pending calls cancelled
    await session.start({ agent: createAgent(proxy, sessionKey), room: ctx.room });
    session.generateReply({ instructions: 'Greet the user and say what you can do here.' });
  },
});

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  cli.runApp(new ServerOptions({ agent: fileURLToPath(import.meta.url) }));
}
