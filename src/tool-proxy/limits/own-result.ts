/**
 * Recognising, from a frame's text alone, a result for one of the sender's own pending calls. Used
 * only on frames over the sender's budget, to decide whether parsing one is worth it: a frame that
 * passes is then decoded and checked like any other, so the text is never trusted on its own.
 */
import type { CallTable } from '../calls/call-table.js';

const RESULT_TYPE = '"client:tool-result"';
/** Call ids are 1–128 chars; the proxy issues `tc_` + hex, which no JSON encoder escapes. */
const CALL_ID = /"call_id"\s*:\s*"([A-Za-z0-9_.:-]{1,128})"/g;
/** What is read of a frame over the size cap, as for any oversize result (PROTOCOL.md section 8). */
const OVERSIZE_HEAD_CHARS = 512;

export function mayBeOwnResult(
  calls: CallTable,
  sender: string,
  text: string,
  maxFrameChars: number,
): boolean {
  const scanned = text.length > maxFrameChars ? text.slice(0, OVERSIZE_HEAD_CHARS) : text;
  if (!scanned.includes(RESULT_TYPE)) return false;
  for (const match of scanned.matchAll(CALL_ID)) {
    const callId = match[1];
    if (callId !== undefined && calls.get(callId)?.spec.tool.provider === sender) return true;
  }
  return false;
}
