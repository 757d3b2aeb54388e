/** The oracles' own reading of JSON text, independent of the decoders under test. */
import { DEFAULT_MAX_JSON_DEPTH } from '../../src/protocol/json-depth.js';

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Nesting of JSON text, found another way than the scanner under test (strings cut out by a
 * regex, then brackets counted): the cap is on the text, so a deep member a duplicate key hides
 * from JSON.parse still counts, and so does text that is not JSON at all. An unterminated string
 * runs to the end.
 */
function textDepth(text: string): number {
  const bare = text.replace(/"(?:[^"\\]|\\[\s\S])*"/g, '0').replace(/".*$/s, '');
  let depth = 0;
  let deepest = 0;
  for (const char of bare) {
    if (char === '[' || char === '{') deepest = Math.max(deepest, ++depth);
    else if ((char === ']' || char === '}') && depth > 0) depth--;
  }
  return deepest;
}

/** How a proxy writes a call's head: `type`, then `call_id`, read from the first 512 chars. */
export const DEEP_CALL_HEAD =
  /^\s*\{\s*"type"\s*:\s*"agent:tool-call"\s*,\s*"call_id"\s*:\s*"([\w.:-]{1,128})"/;

export function tooDeep(text: string): boolean {
  return textDepth(text) > DEFAULT_MAX_JSON_DEPTH;
}

/** JSON.parse that says undefined instead of throwing. */
export function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** zod counts string lengths in code points (PROTOCOL.md's other caps are UTF-16 units). */
export function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++, count++) {
    const unit = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
  }
  return count;
}
