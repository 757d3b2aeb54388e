/** Counters a proxy keeps about what crossed the wire: nothing is dropped without being counted. */
import type { CallOutcome } from './calls/outcome.js';

export interface ProxyStats {
  /** `rateLimited`: dropped because the sender was over its frame budget (PROTOCOL.md section 13). */
  frames: {
    received: number;
    unknownType: number;
    malformed: number;
    tooLarge: number;
    rateLimited: number;
  };
  /** `tooLarge`: results over `maxResultChars` (or the frame cap) that failed their call. */
  results: {
    accepted: number;
    late: number;
    duplicate: number;
    unknown: number;
    spoofed: number;
    tooLarge: number;
  };
  /** `rateLimited`: registrations refused because the provider was over its registration budget. */
  registrations: { rateLimited: number };
  progress: { accepted: number; dropped: number };
  /** `client:tool-log`: `dropped` when not from the addressee of a pending call. */
  logs: { accepted: number; dropped: number };
  calls: { started: number; rejectedBeforeSend: number; settled: Record<CallOutcome, number> };
  notices: { sent: number; failed: number };
}

export function emptyStats(): ProxyStats {
  return {
    frames: { received: 0, unknownType: 0, malformed: 0, tooLarge: 0, rateLimited: 0 },
    results: { accepted: 0, late: 0, duplicate: 0, unknown: 0, spoofed: 0, tooLarge: 0 },
    registrations: { rateLimited: 0 },
    progress: { accepted: 0, dropped: 0 },
    logs: { accepted: 0, dropped: 0 },
    calls: {
      started: 0,
      rejectedBeforeSend: 0,
      settled: {
        result: 0,
        'remote-error': 0,
        'invalid-result': 0,
        timeout: 0,
        cancelled: 0,
        'provider-gone': 0,
        'tool-unregistered': 0,
        'send-failed': 0,
      },
    },
    notices: { sent: 0, failed: 0 },
  };
}

export function snapshotStats(stats: ProxyStats): ProxyStats {
  return structuredClone(stats);
}
