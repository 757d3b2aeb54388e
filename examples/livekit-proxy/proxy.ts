/**
 * The agent side in a real LiveKit room, by hand: joins as `toolproxy-agent`, shows the tools
 * providers offer, and lets you call them and stop them from the keyboard, as an agent would.
 *
 *   LIVEKIT_URL=ws://localhost:7880 LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret \
 *     npx tsx --conditions=toolproxy-source examples/livekit-proxy/proxy.ts
 *
 * Commands: `tools`, `call <tool> <json arguments>`, `stop` (agent_loop_stopped), `quit`.
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { isToolProxyError, type ToolChannel, ToolProxy } from 'toolproxy';
import { LiveKitAgentChannel } from 'toolproxy/livekit';

const SESSION = 'keyboard';

/** Runs one command line against the proxy; returns false on `quit`. */
export function command(proxy: ToolProxy, line: string, print: (text: string) => void): boolean {
  const [verb = '', name = '', ...rest] = line.trim().split(/\s+/);
  if (verb === 'quit') return false;
  if (verb === 'tools') {
    for (const tool of proxy.tools()) print(`${tool.name} (${tool.provider}): ${tool.description}`);
  } else if (verb === 'stop') {
    proxy.lifecycle('agent_loop_stopped', {
      session_key: SESSION,
      reason: 'Stop requested',
      invalidation_reason: 'stop_command',
    });
  } else if (verb === 'call') {
    let args: Record<string, unknown>;
    try {
      args = rest.length === 0 ? {} : (JSON.parse(rest.join(' ')) as Record<string, unknown>);
    } catch {
      print('arguments must be JSON, e.g. call move_arm {"x": 10, "y": 5}');
      return true;
    }
    print(`calling ${name}…`);
    proxy
      .call(name, args, {
        sessionKey: SESSION,
        onProgress: (p) => print(`  ${name}: ${p.message ?? p.progress}`),
      })
      .then(
        (result) => print(`${name} → ${JSON.stringify(result)}`),
        (error: unknown) =>
          print(
            `${name} ✗ ${isToolProxyError(error) ? `${error.code}: ${error.message}` : String(error)}`,
          ),
      );
  } else if (verb !== '') {
    print('commands: tools | call <tool> <json> | stop | quit');
  }
  return true;
}

/** Starts a proxy on `channel` and reports tools as providers come and go. */
export async function startProxy(
  channel: ToolChannel,
  print: (text: string) => void,
): Promise<ToolProxy> {
  const proxy = new ToolProxy();
  proxy.hooks.on('tool:registered', ({ tool, updated }) =>
    print(`${updated ? 'updated' : 'new tool'}: ${tool.name} from ${tool.provider}`),
  );
  proxy.hooks.on('tool:unregistered', ({ tool, cause }) => print(`gone: ${tool.name} (${cause})`));
  await proxy.start(channel);
  return proxy;
}

async function main(): Promise<void> {
  const url = process.env.LIVEKIT_URL ?? 'ws://localhost:7880';
  const room = process.env.LIVEKIT_ROOM ?? 'toolproxy';
  const channel = new LiveKitAgentChannel({
    url,
    room,
    ...(process.env.LIVEKIT_TOKEN === undefined
      ? {
          apiKey: process.env.LIVEKIT_API_KEY ?? 'devkey',
          apiSecret: process.env.LIVEKIT_API_SECRET ?? 'secret',
        }
      : { token: process.env.LIVEKIT_TOKEN }),
  });
  const proxy = await startProxy(channel, console.log);
  console.log(
    `joined room "${room}" at ${url}. Commands: tools | call <tool> <json> | stop | quit`,
  );
  const input = createInterface({ input: process.stdin });
  const quit = async () => {
    input.close();
    await proxy.close();
    process.exit(0);
  };
  input.on('line', (line) => {
    if (!command(proxy, line, console.log)) void quit();
  });
  process.once('SIGINT', () => void quit());
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`livekit-proxy: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
