/**
 * A linear pre-scan of JSON text, run before `JSON.parse`: what parsing will cost is not the
 * number of characters but the structure in them. 800 KB nested 400,000 arrays deep takes V8 about
 * a hundred times longer to parse than 800 KB of string, so the nesting is capped before parsing
 * and each structural character is charged to the sender's budget (PROTOCOL.md sections 1, 13).
 *
 * The scan does not validate: it skips strings (escapes included) and counts brackets, braces,
 * commas and colons outside them. Text that is not JSON is left for `JSON.parse` to refuse.
 */

/** Deepest nesting of arrays and objects a frame or request body may have. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

export interface JsonScan {
  /** Deepest nesting seen; `maxDepth + 1` when the scan stopped there. */
  readonly depth: number;
  /** `[ ] { } , :` outside strings, up to where the scan stopped. */
  readonly structural: number;
  /** Nested deeper than `maxDepth`: the scan stopped at the first bracket past it. */
  readonly tooDeep: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;
const COLON = 0x3a;

export function scanJson(text: string, maxDepth: number = DEFAULT_MAX_JSON_DEPTH): JsonScan {
  let depth = 0;
  let deepest = 0;
  let structural = 0;
  const length = text.length;
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      index = closingQuote(text, index);
      if (index < 0) break; // unterminated: the rest is string, and JSON.parse refuses it
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      structural++;
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (depth > maxDepth) return { depth, structural, tooDeep: true };
      }
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      structural++;
      // Unbalanced text is not JSON; never going below zero keeps the count meaningful anyway.
      if (depth > 0) depth--;
    } else if (code === COMMA || code === COLON) {
      structural++;
    }
  }
  return { depth: deepest, structural, tooDeep: false };
}

/**
 * Index of the quote closing the string opened at `open`, or -1. `indexOf` finds candidates fast;
 * one preceded by an odd run of backslashes is escaped. Each run is counted once (it lies between
 * two candidates), so the whole scan stays linear.
 */
function closingQuote(text: string, open: number): number {
  let quote = text.indexOf('"', open + 1);
  while (quote >= 0) {
    let backslashes = 0;
    for (let at = quote - 1; at > open && text.charCodeAt(at) === BACKSLASH; at--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    quote = text.indexOf('"', quote + 1);
  }
  return -1;
}

/** Why a text was refused for its nesting, for logs and answers: the cap and what to do. */
export function tooDeepMessage(what: string, maxDepth: number): string {
  return (
    `${what} nests arrays and objects more than ${maxDepth} levels deep, the limit; ` +
    'it was not parsed. Send flatter JSON.'
  );
}
