/**
 * What `JSON.parse` costs per character for shapes of JSON a sender may pick, against one long
 * string: the measurement behind `LIMIT_DEFAULTS.charsPerStructural` (each structural character's
 * weight in the character budget) and the depth cap. Not part of `npm run bench`; run it alone:
 *   node --import ./test/bench/register.mjs test/bench/json-cost.ts
 */
import { LIMIT_DEFAULTS } from '../../src/tool-proxy/limits/limit-options.js';
import { scanJson } from '../../src/protocol/json-depth.js';

const CHARS = 800_000;

function repeat(unit: string, open = '[', close = ']'): string {
  return (
    open +
    Array.from({ length: Math.floor(CHARS / (unit.length + 1)) }, () => unit).join(',') +
    close
  );
}

const shapes: Record<string, string> = {
  string: JSON.stringify({ type: 'client:tool-result', call_id: 'x', result: 'a'.repeat(CHARS) }),
  numbers: repeat('0'),
  'empty arrays': repeat('[]'),
  'empty objects': repeat('{}'),
  'small objects': repeat('{"a":1}'),
  'nested 64 deep': repeat('['.repeat(63) + ']'.repeat(63)),
  'distinct keys':
    '{' + Array.from({ length: CHARS / 10 }, (_, i) => `"k${i.toString(36)}":0`).join(',') + '}',
  'tool result': JSON.stringify({
    type: 'client:tool-result',
    call_id: 'x',
    result: Array.from({ length: CHARS / 80 }, (_, id) => ({
      id,
      name: `item ${id}`,
      ok: true,
      tags: ['a', 'b'],
    })),
  }),
  'nested 400,000 deep': '['.repeat(CHARS / 2) + ']'.repeat(CHARS / 2),
};

function medianMs(text: string, run: (text: string) => unknown, reps: number): number {
  for (let i = 0; i < 2; i++) run(text);
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    run(text);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

const weight = LIMIT_DEFAULTS.charsPerStructural;
const base = shapes.string ?? '';
const perChar = medianMs(base, (text) => JSON.parse(text), 15) / base.length;
const rows: string[] = [];
for (const [name, text] of Object.entries(shapes)) {
  if (text === base) continue;
  const { structural, depth } = scanJson(text, Number.MAX_SAFE_INTEGER);
  const parse = medianMs(text, (t) => JSON.parse(t), name.includes('400,000') ? 5 : 15);
  const scan = medianMs(text, (t) => scanJson(t), 15);
  const perStructural =
    structural === 0 ? 0 : (parse - perChar * text.length) / structural / perChar;
  // Parse time per character of budget charged, relative to a string's: what a sender buys.
  const relative = parse / (perChar * (text.length + weight * structural));
  rows.push(
    [
      name.padEnd(20),
      String(depth).padStart(7),
      parse.toFixed(2).padStart(8),
      scan.toFixed(2).padStart(6),
      perStructural.toFixed(0).padStart(9),
      relative.toFixed(1).padStart(9),
    ].join(' '),
  );
}
console.log(
  `${CHARS} chars a shape; weight ${weight}; string parse ${(perChar * 1e6).toFixed(2)} ns/char`,
);
console.log('shape                  depth parse ms scan ms weight* per-budget**');
for (const row of rows) console.log(row);
console.log('* a structural char costs this many string chars to parse');
console.log(
  '** parse time per budget char charged, relative to a string (nested 400,000 deep is refused unparsed)',
);
