/**
 * Reports a figure a test measured: as a test annotation (shown by reporters that show them) and
 * as one `measured | <test> | <figure>` line on stdout, easy to pick out of any reporter's output.
 */
import type { TestContext } from 'vitest';

export async function measured(context: TestContext, figure: string): Promise<void> {
  console.log(`measured | ${context.task.name} | ${figure}`);
  await context.annotate(figure, 'measured');
}

/** Milliseconds since `since` (a `performance.now()` reading), rounded to 0.1 ms. */
export function elapsedMs(since: number): number {
  return Math.round((performance.now() - since) * 10) / 10;
}
