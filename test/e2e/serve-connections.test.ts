/**
 * `serve` holds at most `maxConnections` + `arrivalRoom` sockets: a flood of idle ones cannot
 * exhaust descriptors, and it is served meanwhile (the flood's own fuller test: serve-flood).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ServeFixture, startServeFixture } from './serve-fixture.js';

const MAX = 6;
const ROOM = 6;
let fixture: ServeFixture;
beforeAll(async () => {
  fixture = await startServeFixture({ maxConnections: MAX, arrivalRoom: ROOM });
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

it('closes connections past maxConnections + arrivalRoom at once, and serves meanwhile', async () => {
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
  // The MCP client of the fixture may hold some of the allowed connections too.
  expect(outcomes.filter((outcome) => outcome === 'open').length).toBeLessThanOrEqual(MAX + ROOM);
  expect(outcomes.filter((outcome) => outcome === 'closed').length).toBeGreaterThanOrEqual(
    3 * MAX - (MAX + ROOM),
  );
  // Served while the silent ones still hold every place: it takes the place of one past its grace.
  const health = await fetch(`${fixture.serve.url}/healthz`);
  expect(health.status).toBe(200);
  for (const { socket } of sockets) socket.destroy();
});

it('refuses a maxConnections or an arrivalRoom that is not a positive integer', async () => {
  await expect(startServeFixture({ maxConnections: 0 })).rejects.toThrow(/maxConnections/);
  await expect(startServeFixture({ arrivalRoom: 1.5 })).rejects.toThrow(/arrivalRoom/);
});
