/** `serve` holds at most `maxConnections` sockets: a flood of idle ones cannot exhaust descriptors. */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ServeFixture, startServeFixture } from './serve-fixture.js';

const MAX = 6;
let fixture: ServeFixture;
beforeAll(async () => {
  fixture = await startServeFixture({ maxConnections: MAX });
});
afterAll(() => fixture.close());

function open(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      resolve({ socket, closed: new Promise((done) => socket.once('close', () => done())) });
    });
    socket.once('error', reject);
  });
}

it('closes connections past maxConnections at once, and serves again once they go', async () => {
  const port = Number(new URL(fixture.serve.url).port);
  const sockets = await Promise.all(Array.from({ length: 3 * MAX }, () => open(port)));
  const outcomes = await Promise.all(
    sockets.map(({ closed }) =>
      Promise.race([
        closed.then(() => 'closed'),
        new Promise((resolve) => setTimeout(() => resolve('open'), 500)),
      ]),
    ),
  );
  // The MCP client of the fixture holds some of the allowed connections too.
  expect(outcomes.filter((outcome) => outcome === 'open').length).toBeLessThanOrEqual(MAX);
  expect(outcomes.filter((outcome) => outcome === 'closed').length).toBeGreaterThanOrEqual(2 * MAX);
  for (const { socket } of sockets) socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const health = await fetch(`${fixture.serve.url}/healthz`);
  expect(health.status).toBe(200);
});

it('refuses a maxConnections that is not a positive integer', async () => {
  await expect(startServeFixture({ maxConnections: 0 })).rejects.toThrow(/maxConnections/);
});
