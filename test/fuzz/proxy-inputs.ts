/** Frames a provider might send, fed to the proxy, and arguments for the tools they register. */
import { DEFAULT_MAX_FRAME_CHARS } from '../../src/protocol/codec.js';
import type { Rng } from '../support/rng.js';
import { isObject, parse } from './json-text.js';
import { type Json, Obj, obj, Raw, write } from './json-tree.js';
import { inputSchema, schemaBomb } from './schemas.js';
import {
  hugeString,
  nestedArrays,
  nestedObjects,
  pollution,
  randomString,
  randomValue,
} from './values.js';

const TOOL_NAMES = ['t0', 't1', 't2', 't3', 't4', 't5', 'move_arm', 'target', 'grip-2', '_x'];

function toolName(rng: Rng): Json {
  if (rng.chance(0.75)) return rng.pick(TOOL_NAMES);
  if (rng.chance(0.1)) return hugeString(rng, 200 + rng.int(200));
  return randomString(rng, 70);
}

function registrationBody(rng: Rng): Obj {
  const body = obj({
    name: toolName(rng),
    description: rng.chance(0.95) ? randomString(rng, 40) : hugeString(rng, 3_000 + rng.int(3_000)),
    input_schema: inputSchema(rng),
  });
  if (rng.chance(0.3)) {
    body.set(
      'metadata',
      obj({
        max_execution_time_ms: rng.chance(0.7) ? 1 + rng.int(200_000) : randomValue(rng, 0),
        annotations: obj({ title: randomString(rng, 30), readOnlyHint: rng.chance(0.5) }),
      }),
    );
  }
  return body;
}

/** A frame a provider might send, valid by construction (the mutations come after). */
export function providerFrameTree(rng: Rng, liveCallIds: readonly string[]): Obj {
  const callId = () =>
    liveCallIds.length > 0 && rng.chance(0.8) ? rng.pick(liveCallIds) : randomString(rng, 20);
  const roll = rng.int(100);
  if (roll < 24)
    return new Obj([['type', 'client:tool-register'], ...registrationBody(rng).entries]);
  if (roll < 32) {
    const tools: Json[] = Array.from({ length: rng.int(4) }, () =>
      rng.chance(0.9) ? registrationBody(rng) : randomValue(rng, 1),
    );
    const batch = obj({ type: 'client:tool-register-batch', tools });
    if (rng.chance(0.3)) batch.set('replace', rng.chance(0.7));
    return batch;
  }
  if (roll < 48) return obj({ type: 'client:tool-unregister', name: toolName(rng) });
  if (roll < 75) {
    const frame = obj({ type: 'client:tool-result', call_id: callId() });
    if (rng.chance(0.7)) frame.set('result', randomValue(rng, 3));
    if (rng.chance(0.4)) {
      frame.set(
        'error',
        rng.pick<Json>([
          null,
          'it broke',
          '',
          obj({ message: 'joint limit', code: 'E_LIMIT', data: randomValue(rng, 2) }),
          obj({ message: randomString(rng) }),
        ]),
      );
    }
    return frame;
  }
  if (roll < 90) {
    const frame = obj({ type: 'client:tool-progress', call_id: callId(), progress: rng.int(100) });
    if (rng.chance(0.5)) frame.set('total', 100);
    if (rng.chance(0.5)) frame.set('message', randomString(rng, 30));
    return frame;
  }
  if (roll < 92) {
    const level = rng.pick(['debug', 'info', 'warning', 'error', 'emergency', 'verbose', '']);
    const frame = obj({ type: 'client:tool-log', call_id: callId(), level });
    if (rng.chance(0.9)) frame.set('data', randomValue(rng, 2));
    if (rng.chance(0.3)) frame.set('logger', randomString(rng, 30));
    return frame;
  }
  return obj({
    type: rng.pick([
      'client:message',
      'agent:hello',
      'client:tool-call',
      '',
      'constructor',
      'toString',
    ]),
    call_id: callId(),
  });
}

/** Frames built to hurt a decoder, one of each kind in turn. */
export function providerSpecial(rng: Rng, liveCallIds: readonly string[]): string {
  const callId = liveCallIds.length > 0 ? rng.pick(liveCallIds) : 'tc_000000000000';
  const register = (schema: Json, name: Json = rng.pick(TOOL_NAMES)) =>
    write(obj({ type: 'client:tool-register', name, description: 'bomb', input_schema: schema }));
  switch (rng.int(12)) {
    case 0:
      return register(schemaBomb(rng));
    case 1:
      return write(
        obj({ type: 'client:tool-result', call_id: callId, result: nestedArrays(100_000) }),
      );
    case 2:
      return write(
        obj({
          type: 'client:tool-result',
          call_id: callId,
          error: obj({ message: 'deep', data: nestedObjects(50_000) }),
        }),
      );
    case 3:
      return register(obj({ type: 'object' }), hugeString(rng, 100_000));
    case 4:
      return write(
        obj({ type: 'client:tool-result', call_id: callId, error: hugeString(rng, 9_000) }),
      );
    case 5:
      return write(
        obj({
          type: 'client:tool-progress',
          call_id: callId,
          progress: new Raw('1e999'),
          message: hugeString(rng, 2_000),
        }),
      );
    case 6:
      return nestedArrays(100_000).text;
    case 7:
      return write(
        new Obj([
          ['type', 'client:tool-register'],
          ...pollution(rng).entries,
          ['name', 't0'],
          ['input_schema', pollution(rng)],
        ]),
      );
    case 8:
      return write(
        obj({
          type: 'client:tool-register-batch',
          tools: Array.from({ length: 257 }, () =>
            obj({ name: 't0', input_schema: obj({ type: 'object' }) }),
          ),
        }),
      );
    case 9:
      // lone surrogates, raw, in every string
      return `{"type":"client:tool-register","name":"t\ud800","description":"\udc00\ud800","input_schema":{"type":"object","properties":{"\ud800":{"type":"string","pattern":"\ud800"}}}}`;
    case 10:
      return write(
        obj({
          type: 'client:tool-result',
          call_id: callId,
          result: obj({ big: hugeString(rng, 150_000) }),
        }),
      );
    default:
      return write(
        obj({
          type: 'client:tool-register',
          name: 't1',
          input_schema: obj({ type: 'object', properties: obj({ x: nestedObjects(30) }) }),
          metadata: pollution(rng),
        }),
      );
  }
}

/** Over the proxy's 1,048,576-char cap, with a result head naming a live call half of the time. */
export function oversize(rng: Rng, liveCallIds: readonly string[]): string {
  // Just over the cap: what matters is the length, not what it is made of.
  const body = 'x'.repeat(DEFAULT_MAX_FRAME_CHARS + 10);
  if (rng.chance(0.5) && liveCallIds.length > 0) {
    return `{"type":"client:tool-result","call_id":${JSON.stringify(rng.pick(liveCallIds))},"result":${JSON.stringify(body)}}`;
  }
  return write(
    obj({
      type: 'client:tool-register',
      name: 't0',
      description: body,
      input_schema: obj({ type: 'object' }),
    }),
  );
}

/** Arguments for calling a fuzzed tool: a JSON object, own `__proto__` keys and deep nesting included. */
export function fuzzedArguments(rng: Rng): Record<string, unknown> {
  const tree = rng.chance(0.05)
    ? obj({ x: rng.chance(0.5) ? nestedArrays(50_000) : nestedObjects(20_000, 'children') })
    : rng.chance(0.1)
      ? pollution(rng)
      : randomValue(rng, 3);
  const value = parse(write(tree));
  return isObject(value) ? value : {};
}
