/**
 * JSON values as trees whose objects are lists of entries, so a frame can carry what a JS object
 * cannot: duplicate keys, `__proto__` as a plain key, keys in any order; and how they are written.
 */

/** A JSON object as written: entries in order, duplicates and `__proto__` allowed. */
export class Obj {
  readonly entries: Array<[string, Json]>;

  constructor(entries: Array<[string, Json]> = []) {
    this.entries = entries;
  }

  set(key: string, value: Json): this {
    const at = this.entries.findIndex(([k]) => k === key);
    if (at >= 0) this.entries[at] = [key, value];
    else this.entries.push([key, value]);
    return this;
  }
}

/** JSON text written as is: number tokens JSON.stringify cannot make (`1e999`, `-0`), or bombs. */
export class Raw {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

export type Json = null | boolean | number | string | Json[] | Obj | Raw;

export function obj(record: Record<string, Json>): Obj {
  return new Obj(Object.entries(record));
}

export function write(value: Json): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof Obj) {
    return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${write(v)}`).join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map(write).join(',')}]`;
  return JSON.stringify(value);
}
