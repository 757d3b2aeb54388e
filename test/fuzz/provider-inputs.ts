/** Frames a proxy might send, fed to the provider runtime. */
import type { Rng } from '../support/rng.js';
import { type Json, Obj, obj, write } from './json-tree.js';
import {
  hugeString,
  nestedArrays,
  nestedObjects,
  pollution,
  randomString,
  randomValue,
} from './values.js';

export const CALLABLE = ['echo', 'slow', 'strict', 'nope', '__proto__', 'constructor', ''];

/** A frame a proxy might send, valid by construction. */
export function proxyFrameTree(rng: Rng, freshId: () => string, recentIds: readonly string[]): Obj {
  const anyId = () =>
    recentIds.length > 0 && rng.chance(0.8) ? rng.pick(recentIds) : randomString(rng, 20);
  const roll = rng.int(100);
  if (roll < 3)
    return obj({
      type: 'agent:hello',
      protocol_version: 1,
      default_timeout_ms: 30_000,
      max_tool_timeout_ms: 120_000,
    });
  // Long timeouts: the fuzz checks the pong; the watch's timing is test/src/tool-proxy/calls/liveness.test.ts's.
  if (roll < 5) return obj({ type: 'agent:ping', timeout_ms: 600_000 + rng.int(10_000) });
  if (roll < 55) {
    const args: Json = rng.chance(0.3)
      ? obj({ n: rng.int(100), tags: ['a', 'b'] })
      : rng.chance(0.9)
        ? randomValue(rng, 3)
        : pollution(rng);
    const frame = obj({
      type: 'agent:tool-call',
      call_id: rng.chance(0.9) ? freshId() : anyId(),
      name: rng.chance(0.9) ? rng.pick(CALLABLE) : randomString(rng, 10),
      arguments: args instanceof Obj ? args : obj({ value: args }),
    });
    if (rng.chance(0.7)) frame.set('timeout_ms', 1 + rng.int(60_000));
    return frame;
  }
  if (roll < 75) {
    const frame = obj({ type: 'agent:tool-call-cancelled', call_id: anyId() });
    if (rng.chance(0.7))
      frame.set(
        'reason',
        rng.pick([
          'agent-loop-stopped',
          'session-reset',
          'caller-aborted',
          'who-knows',
          '__proto__',
        ]),
      );
    if (rng.chance(0.5)) frame.set('name', rng.pick(CALLABLE));
    if (rng.chance(0.5)) frame.set('detail', randomString(rng, 30));
    return frame;
  }
  if (roll < 85) return obj({ type: 'agent:tool-call-timeout', call_id: anyId() });
  if (roll < 95) {
    return obj({
      type: rng.chance(0.7) ? 'agent:tool-registered' : 'agent:tool-unregistered',
      name: rng.pick(CALLABLE),
      success: rng.chance(0.5),
      reason: randomString(rng, 12),
      detail: randomString(rng, 30),
      exposed_name: randomString(rng, 12),
    });
  }
  return obj({
    type: rng.pick(['client:tool-result', 'agent:message', '', 'hasOwnProperty']),
    call_id: anyId(),
  });
}

export function proxySpecial(rng: Rng, freshId: () => string): string {
  const call = (args: Json, name: Json = rng.pick(['echo', 'strict'])) =>
    write(obj({ type: 'agent:tool-call', call_id: freshId(), name, arguments: args }));
  switch (rng.int(8)) {
    case 0:
      return call(obj({ deep: nestedArrays(100_000) }));
    case 1:
      return call(obj({ deep: nestedObjects(50_000) }));
    case 2:
      return call(obj({ big: hugeString(rng, 200_000) }), 'echo');
    case 3:
      return call(new Obj([...pollution(rng).entries, ['n', 2]]));
    case 4:
      return call(obj({ n: 1 }), hugeString(rng, 100_000));
    case 5:
      return write(
        obj({
          type: 'agent:tool-call',
          call_id: hugeString(rng, 200),
          name: 'echo',
          arguments: obj({}),
        }),
      );
    case 6:
      return `{"type":"agent:tool-call","call_id":"${freshId()}","name":"echo","arguments":{"\ud800":"\udc00","s":"a\ud800"}}`;
    default:
      return nestedObjects(100_000, 'type').text;
  }
}
