/**
 * Says how many tests of a real-peer suite ran and passed against the real program, so `npm test`
 * shows it beside the suite (a skipped suite says why through its gate instead).
 */
import { afterAll, afterEach } from 'vitest';

/** Call inside the suite's `describe`: counts its tests, prints one line when it ends. */
export function countRealPeerTests(suite: string): void {
  let passed = 0;
  let ran = 0;
  afterEach((context) => {
    ran++;
    if (context.task.result?.state !== 'fail') passed++;
  });
  afterAll(() => {
    console.log(`real peers: ${suite}: ${passed} of ${ran} tests passed against the real program`);
  });
}
