/** What a fuzz run found: how frames were made, what came back, crashes and oracle violations. */

export interface FuzzSummary {
  frames: number;
  /** How each frame was made: valid, mutated, text-mutated, special, oversize, not-a-frame. */
  made: Record<string, number>;
  /** What came back: `registered:ok`, `registered:schema-invalid`, `result:echo`, ... */
  replies: Record<string, number>;
  /** How the calls the harness made ended (proxy side): `CANCELLED`, `INVALID_ARGUMENTS`, ... */
  calls: Record<string, number>;
  /** Internal errors caught by a channel guard (`logger.error`): crashes, had they not been caught. */
  crashes: number;
  /** Frames the room refused to carry (over its size limit). */
  refusedByRoom: number;
  violations: string[];
  violationCount: number;
  slowestFrameMs: number;
  slowestCallMs: number;
}

export function emptySummary(): FuzzSummary {
  return {
    frames: 0,
    made: {},
    replies: {},
    calls: {},
    crashes: 0,
    refusedByRoom: 0,
    violations: [],
    violationCount: 0,
    slowestFrameMs: 0,
    slowestCallMs: 0,
  };
}

export function count(tally: Record<string, number>, key: string): void {
  tally[key] = (tally[key] ?? 0) + 1;
}

export function violation(summary: FuzzSummary, what: string, text: string): void {
  summary.violationCount++;
  if (summary.violations.length < 20) {
    const shown = text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
    summary.violations.push(`${what} — frame: ${JSON.stringify(shown)}`);
  }
}
