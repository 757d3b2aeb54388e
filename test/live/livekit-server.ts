/**
 * A real LiveKit server (the binary scripts/ensure-livekit-server.mjs builds) for the live suite,
 * which runs inside a loopback-only network namespace (test/live/netns.sh): the server binds and
 * announces only the namespace's test address and loopback, hands clients a loopback STUN address
 * (nothing answers there) instead of public ones, and runs no TURN. TOOLPROXY_LIVEKIT_LOG=info (or
 * debug) shows its log.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The namespace's own test address (netns.sh): ICE candidates live here. */
export const NAMESPACE_ADDRESS = '198.18.0.1';

export interface LiveKitServer {
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  stop(): Promise<void>;
}

function config(apiKey: string, apiSecret: string): string {
  return [
    'port: 7880',
    `bind_addresses: [127.0.0.1, ${NAMESPACE_ADDRESS}]`,
    'rtc:',
    '  udp_port: 7882',
    '  tcp_port: 0',
    `  node_ip: ${NAMESPACE_ADDRESS}`,
    '  use_external_ip: false',
    '  enable_loopback_candidate: true',
    `  ips: { includes: [${NAMESPACE_ADDRESS}/32, 127.0.0.1/32] }`,
    '  stun_servers: [127.0.0.1:3478]',
    'turn: { enabled: false }',
    `keys: { ${apiKey}: ${apiSecret} }`,
    `logging: { level: ${process.env.TOOLPROXY_LIVEKIT_LOG ?? 'warn'} }`,
    '',
  ].join('\n');
}

/** Starts the server and resolves once `GET /` answers 200. */
export async function startLiveKitServer(binary: string): Promise<LiveKitServer> {
  const apiKey = 'toolproxy-live';
  const apiSecret = randomBytes(32).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'toolproxy-livekit-'));
  const configPath = join(dir, 'livekit.yaml');
  writeFileSync(configPath, config(apiKey, apiSecret));
  const child: ChildProcess = spawn(binary, ['--config', configPath], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const http = 'http://127.0.0.1:7880/';
  const ready = async (): Promise<void> => {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`livekit-server exited ${child.exitCode}`);
      const ok = await fetch(http).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  try {
    await ready();
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: 'ws://127.0.0.1:7880', apiKey, apiSecret, stop };
}
