/**
 * The two notices a proxy sends when it gives up on a call, encoded by template. A stop sends one
 * per pending call inside the emit, so their cost is the fan-out's: the parts every notice of one
 * stop shares (the reason and detail) are encoded once, and each notice costs one concatenation.
 * The text is byte for byte what `encodeFrame` gives for the same frame (a test holds them equal).
 */
import type { CancelReason } from '../shared/errors.js';

/** The JSON after `"name":…` of every cancel notice with this reason and detail. */
export function cancelNoticeTail(reason: CancelReason, detail: string | undefined): string {
  const tail = `,"reason":${JSON.stringify(reason)}`;
  return detail === undefined ? `${tail}}` : `${tail},"detail":${JSON.stringify(detail)}}`;
}

/** `agent:tool-call-cancelled`; `tail` from `cancelNoticeTail`. */
export function encodeCancelNotice(callId: string, name: string, tail: string): string {
  return `{"type":"agent:tool-call-cancelled","call_id":${JSON.stringify(callId)},"name":${JSON.stringify(name)}${tail}`;
}

export function encodeTimeoutNotice(callId: string, name: string): string {
  return `{"type":"agent:tool-call-timeout","call_id":${JSON.stringify(callId)},"name":${JSON.stringify(name)}}`;
}
