/**
 * Keeps a real Claude Code on loopback and says whether it tried to leave. Claude Code honours
 * HTTPS_PROXY / HTTP_PROXY (NO_PROXY for loopback), so pointing them at a proxy of our own that
 * refuses everything turns each attempt to reach a host (its plugin marketplace, update checks,
 * GitHub) into a recorded refusal, with no name resolved and no packet sent. `ssh` ignores the
 * proxy, so an `ssh` of our own, first on PATH, refuses and records too (Claude Code probes
 * `ssh git@github.com` before cloning its official marketplace over SSH).
 */
import { once } from 'node:events';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface EgressTrap {
  /** `http://127.0.0.1:PORT`, for HTTPS_PROXY and HTTP_PROXY. */
  readonly proxyUrl: string;
  /** A folder to put first on PATH: it holds the refusing `ssh`. */
  readonly binDir: string;
  /** Every attempt seen so far: `CONNECT host:port`, `GET http://…`, `ssh …`. */
  attempts(): string[];
  close(): Promise<void>;
}

/** Starts the trap; `dir` (a scratch folder) gets the `ssh` and its log. */
export async function startEgressTrap(dir: string): Promise<EgressTrap> {
  const seen: string[] = [];
  const server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    response.writeHead(403, { connection: 'close' }).end();
  });
  server.on('connect', (request: { url?: string }, socket: NodeJS.WritableStream) => {
    seen.push(`CONNECT ${request.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const binDir = join(dir, 'bin');
  const sshLog = join(dir, 'ssh.log');
  mkdirSync(binDir, { recursive: true });
  writeFileSync(sshLog, '');
  writeFileSync(
    join(binDir, 'ssh'),
    `#!/bin/sh\nprintf 'ssh %s\\n' "$*" >> '${sshLog}'\necho 'ssh: refused by the test' >&2\nexit 255\n`,
  );
  chmodSync(join(binDir, 'ssh'), 0o755);
  return {
    proxyUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    binDir,
    attempts: () => [
      ...seen,
      ...readFileSync(sshLog, 'utf8')
        .split('\n')
        .filter((line) => line !== ''),
    ],
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
