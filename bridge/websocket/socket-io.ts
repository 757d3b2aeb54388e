/** Reading `ws` frames as text, and closing a `ws` socket without waiting on it forever. */
import { type RawData, WebSocket } from 'ws';
import type { Timers } from '../../src/seam.js';
import { CloseCode } from './wire.js';

/** How long `closeGracefully` waits for the other side to answer the close handshake. */
const CLOSE_GRACE_MS = 1_000;

export function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data.byteLength;
}

export function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** Closes with 1001, resolving once the other side answers, or terminating after a grace period. */
export function closeGracefully(socket: WebSocket, timers: Timers): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = timers.setTimeout(() => {
      socket.terminate();
      resolve();
    }, CLOSE_GRACE_MS);
    socket.once('close', () => {
      timers.clearTimeout(timer);
      resolve();
    });
    socket.close(CloseCode.goingAway, 'proxy shutting down');
  });
}
