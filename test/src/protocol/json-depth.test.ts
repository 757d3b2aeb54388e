/**
 * The JSON pre-scan run before `JSON.parse`: nesting depth and structural characters, with strings
 * (and their escapes) skipped, stopping at the first bracket past the cap. Checked against
 * hand-counted cases and against a reference walk of what `JSON.parse` itself builds.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_JSON_DEPTH, scanJson } from '../../../src/protocol/json-depth.js';
import { Rng } from '../../support/rng.js';

/** Depth and structural count of a parsed value, the slow way (what the scan must agree with). */
function reference(value: unknown): { depth: number; structural: number } {
  if (typeof value !== 'object' || value === null) return { depth: 0, structural: 0 };
  const children = Object.values(value);
  let depth = 0;
  // Brackets (2), a comma between each pair, and for objects a colon per member.
  let structural = 2 + Math.max(0, children.length - 1);
  if (!Array.isArray(value)) structural += children.length;
  for (const child of children) {
    const inner = reference(child);
    depth = Math.max(depth, inner.depth);
    structural += inner.structural;
  }
  return { depth: depth + 1, structural };
}

function nested(depth: number, open = '[', close = ']'): string {
  return open.repeat(depth) + close.repeat(depth);
}

describe('scanJson', () => {
  it('counts depth and structural characters of plain JSON', () => {
    expect(scanJson('{"a":[1,2,{"b":null}]}')).toEqual({
      depth: 3,
      structural: 10,
      tooDeep: false,
    });
    expect(scanJson('42')).toEqual({ depth: 0, structural: 0, tooDeep: false });
    expect(scanJson('')).toEqual({ depth: 0, structural: 0, tooDeep: false });
    expect(scanJson(' [ [ ] , { } ] ')).toEqual({ depth: 2, structural: 7, tooDeep: false });
  });

  it('skips brackets, commas and colons inside strings', () => {
    expect(scanJson('["[[[{{{,:,:]]]"]')).toEqual({ depth: 1, structural: 2, tooDeep: false });
    expect(scanJson(`{"k":"${'['.repeat(1_000)}"}`, 4)).toMatchObject({ depth: 1, tooDeep: false });
  });

  it('an escaped quote does not end a string; an escaped backslash before a quote does', () => {
    // The string is  a"[[  : its brackets are not structure.
    expect(scanJson(String.raw`["a\"[[", 1]`)).toEqual({ depth: 1, structural: 3, tooDeep: false });
    // The string is  a\  and then the brackets are real.
    expect(scanJson(String.raw`["a\\", [[1]]]`)).toEqual({
      depth: 3,
      structural: 7,
      tooDeep: false,
    });
    // Three backslashes: an escaped backslash, then an escaped quote; the string goes on.
    expect(scanJson(String.raw`["\\\"[[[", 0]`)).toEqual({
      depth: 1,
      structural: 3,
      tooDeep: false,
    });
    expect(scanJson(String.raw`{"\\":"\\\\"}`)).toEqual({
      depth: 1,
      structural: 3,
      tooDeep: false,
    });
  });

  it('reads unicode text and \\u escapes as string content', () => {
    expect(scanJson('{"名前":"😀[{","\\u005b":"\\u0022["}')).toEqual({
      depth: 1,
      structural: 5,
      tooDeep: false,
    });
    // A lone surrogate is just another character to the scan.
    expect(scanJson('["\uD800]", [\uDC00]]')).toMatchObject({ depth: 2, tooDeep: false });
  });

  it('an unterminated string swallows the rest (JSON.parse refuses the text anyway)', () => {
    expect(scanJson(`["open ${nested(100)}`, 8)).toEqual({
      depth: 1,
      structural: 1,
      tooDeep: false,
    });
  });

  it('refuses exactly past the cap, for arrays and objects alike', () => {
    const cap = DEFAULT_MAX_JSON_DEPTH;
    expect(scanJson(nested(cap))).toMatchObject({ depth: cap, tooDeep: false });
    expect(scanJson(nested(cap + 1))).toMatchObject({ depth: cap + 1, tooDeep: true });
    const objects = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
    expect(scanJson(objects(cap))).toMatchObject({ depth: cap, tooDeep: false });
    expect(scanJson(objects(cap + 1))).toMatchObject({ depth: cap + 1, tooDeep: true });
    expect(scanJson(nested(3), 3).tooDeep).toBe(false);
    expect(scanJson(nested(4), 3).tooDeep).toBe(true);
  });

  it('depth is the deepest point, not the sum of siblings', () => {
    const siblings = `[${Array.from({ length: 1_000 }, () => nested(60)).join(',')}]`;
    expect(scanJson(siblings)).toMatchObject({ depth: 61, tooDeep: false });
  });

  it('stops at the first bracket past the cap, whatever follows', () => {
    const deep = nested(400_000);
    const scan = scanJson(deep);
    expect(scan).toEqual({ depth: 65, structural: 65, tooDeep: true });
    // What follows the stop is never read: the same answer with a million more characters.
    expect(scanJson(`${'['.repeat(65)}${'x'.repeat(1_000_000)}`)).toEqual(scan);
  });

  it('closing more than it opened never goes below zero', () => {
    expect(scanJson(']]]]][[')).toEqual({ depth: 2, structural: 7, tooDeep: false });
    expect(scanJson(`]]]]${nested(65)}`).tooDeep).toBe(true);
  });

  it('agrees with what JSON.parse builds, over random documents', () => {
    const rng = new Rng(0x5eed);
    const strings = ['', 'plain', '[{,:}]', '"', '\\', '\\"[', '名', '😀', '\u2028', '\u0000'];
    const value = (depth: number): unknown => {
      const roll = rng.next();
      if (depth > 12 || roll < 0.3) return rng.pick([0, -1.5e-7, true, null, ...strings]);
      const items = Array.from({ length: rng.int(5) }, () => value(depth + 1));
      if (roll < 0.65) return items;
      return Object.fromEntries(items.map((item, i) => [`${rng.pick(strings)}${i}`, item]));
    };
    for (let i = 0; i < 1_000; i++) {
      const doc = value(0);
      const text = rng.chance(0.5) ? JSON.stringify(doc) : JSON.stringify(doc, null, 2);
      const expected = reference(doc);
      expect(scanJson(text, 64), text).toEqual({ ...expected, tooDeep: false });
      if (expected.depth > 1) expect(scanJson(text, expected.depth - 1).tooDeep, text).toBe(true);
    }
  });
});
