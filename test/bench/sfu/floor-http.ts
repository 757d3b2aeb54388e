/**
 * The hook's floor: one HTTP request and one SFU hop, and nothing else. A bare `http.createServer`
 * on 127.0.0.1 that, on a POST, reads and parses the body and publishes one packet to the B it
 * names (floor.ts: reliable, `destination_identities`) from participant A, then answers 200. No
 * routing, validation, call table, logging or codec. Measured from the POST leaving (the same
 * kept-alive `http.request` client as the hook) to B's listener.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Room } from '@livekit/rtc-node';
import { KeepAlivePoster } from '../b4-http.js';
import { FLOOR_TOPIC, floorPayload } from './floor.js';

export interface HttpFloor {
  readonly poster: KeepAlivePoster;
  /** The body a POST carries: about a hook's, naming the packet and its addressee. */
  body(seq: number, to: string): string;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export async function startHttpFloor(a: Room): Promise<HttpFloor> {
  const server = createServer((request, response) => {
    void readBody(request).then((text) => {
      const { seq, to } = JSON.parse(text) as { seq: number; to: string };
      void a.localParticipant
        ?.publishData(floorPayload(seq), {
          reliable: true,
          destination_identities: [to],
          topic: FLOOR_TOPIC,
        })
        .catch(() => {});
      const answer = '{"accepted":true}';
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(answer),
      });
      response.end(answer);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const poster = new KeepAlivePoster((server.address() as AddressInfo).port);
  return {
    poster,
    body: (seq, to) => JSON.stringify({ seq, to }),
    close: async () => {
      poster.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
