/**
 * Frames for fuzzing, generated and mutated from a seed (the same seed gives the same frames).
 * Values are built as trees whose objects are lists of entries, so a frame can carry what a JS
 * object cannot: duplicate keys, `__proto__` as a plain key, keys in any order. They are written
 * out as JSON text, then sometimes mutated as text (truncated, spliced, with lone surrogates).
 */

export { type Json, Obj, obj, Raw, write } from './json-tree.js';
export {
  hugeString,
  nestedArrays,
  nestedObjects,
  POLLUTING_KEYS,
  pollution,
  randomString,
  randomValue,
} from './values.js';
export { inputSchema, refFanOut, schemaBomb } from './schemas.js';
export { mutated, mutateText, mutateTree, notAFrame } from './mutation.js';
