/** Whether fuzzing polluted a built-in prototype. */

const PROTOTYPES: object[] = [
  Object.prototype,
  Array.prototype,
  Function.prototype,
  String.prototype,
  Number.prototype,
  Promise.prototype,
  Error.prototype,
];

/** The own keys of the built-in prototypes: must be the same after fuzzing as before. */
export function prototypeKeys(): string {
  return PROTOTYPES.map((p) => Reflect.ownKeys(p).map(String).sort().join(',')).join('|');
}

/** True if a fresh object sees something a pollution payload would have planted. */
export function prototypePolluted(): boolean {
  const probe: Record<string, unknown> = {};
  return (
    probe.polluted !== undefined ||
    probe.isAdmin !== undefined ||
    Object.getPrototypeOf(probe) !== Object.prototype ||
    typeof probe.toString !== 'function'
  );
}
