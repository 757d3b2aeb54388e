import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_FRAME_CHARS,
  type DecodeResult,
  decodeFrame,
  encodeFrame,
} from '../../../src/protocol/codec.js';
import {
  type OutboundProviderFrame,
  type OutboundProxyFrame,
  type ProviderFrame,
  ProviderFrameSchemas,
  type ProxyFrame,
  ProxyFrameSchemas,
} from '../../../src/protocol/frames.js';

type Failure = Extract<DecodeResult<ProviderFrame>, { ok: false }>;

function decode(text: string, maxChars?: number): DecodeResult<ProviderFrame> {
  return decodeFrame(text, ProviderFrameSchemas, maxChars);
}

function failure(text: string, maxChars?: number): Failure {
  const result = decode(text, maxChars);
  if (result.ok) throw new Error(`expected ${text.slice(0, 60)} to be refused`);
  return result;
}

function frameOf(text: string): ProviderFrame {
  const result = decode(text);
  if (!result.ok) throw new Error(`expected a valid frame, got ${result.problem}: ${result.error}`);
  return result.frame;
}

const REGISTER = {
  type: 'client:tool-register',
  name: 'move_arm',
  description: 'Moves the arm',
  input_schema: { type: 'object', properties: { x: { type: 'number' } } },
};

describe('decodeFrame: problems', () => {
  it('refuses text over the limit as too-large, before parsing it', () => {
    const text = JSON.stringify(REGISTER);
    const result = failure(text, text.length - 1);
    expect(result.problem).toBe('too-large');
    expect(result.error).toContain(String(text.length));
    expect(result.raw).toBeUndefined();
    expect(decode(text, text.length).ok).toBe(true);
    // Not even JSON: size is checked first.
    expect(failure('x'.repeat(11), 10).problem).toBe('too-large');
  });

  it('uses a 1 MiB limit by default', () => {
    expect(DEFAULT_MAX_FRAME_CHARS).toBe(1_048_576);
    const padding = 'x'.repeat(DEFAULT_MAX_FRAME_CHARS);
    expect(failure(JSON.stringify({ ...REGISTER, description: padding })).problem).toBe(
      'too-large',
    );
  });

  it.each([
    ['empty text', ''],
    ['a truncated object', '{"type":"client:tool-register"'],
    ['single quotes', "{'type':'client:tool-result'}"],
    ['a bare word', 'undefined'],
    ['trailing garbage', '{"type":"x"} {}'],
    ['NaN', 'NaN'],
  ])('classifies %s as not-json', (_what, text) => {
    const result = failure(text);
    expect(result.problem).toBe('not-json');
    expect(result.error).not.toBe('');
    expect(result.raw).toBeUndefined();
  });

  it.each([
    ['an array', '[]'],
    ['an array of frames', JSON.stringify([REGISTER])],
    ['a number', '42'],
    ['null', 'null'],
    ['a string', '"client:tool-register"'],
    ['a boolean', 'true'],
  ])('classifies %s as not-object', (_what, text) => {
    const result = failure(text);
    expect(result.problem).toBe('not-object');
    expect(result.raw).toBeUndefined();
    expect(result.type).toBeUndefined();
  });

  it.each([
    ['no type', {}],
    ['a numeric type', { type: 42 }],
    ['a null type', { type: null }],
    ['an object type', { type: { name: 'client:tool-register' } }],
    ['an array type', { type: ['client:tool-register'] }],
  ])('classifies a frame with %s as unknown-type, with the raw object', (_what, frame) => {
    const result = failure(JSON.stringify(frame));
    expect(result.problem).toBe('unknown-type');
    expect(result.type).toBeUndefined();
    expect(result.raw).toEqual(frame);
  });

  it.each([
    'client:unknown',
    'client:capture-frame',
    'agent:tool-call',
    'CLIENT:TOOL-REGISTER',
    '',
    'toString',
    'constructor',
    '__proto__',
    'hasOwnProperty',
  ])('classifies type %j as unknown-type, naming the type', (type) => {
    const result = failure(JSON.stringify({ type, name: 'x' }));
    expect(result.problem).toBe('unknown-type');
    expect(result.type).toBe(type);
    expect(result.raw).toMatchObject({ name: 'x' });
  });

  it.each([
    ['client:tool-register', { ...REGISTER, name: 42 }, 'name'],
    ['client:tool-register', { ...REGISTER, name: 'n'.repeat(257) }, 'name'],
    ['client:tool-register', { type: 'client:tool-register', input_schema: {} }, 'name'],
    ['client:tool-register', { ...REGISTER, description: 7 }, 'description'],
    ['client:tool-register', { ...REGISTER, input_schema: 'object' }, 'input_schema'],
    ['client:tool-register', { ...REGISTER, input_schema: [] }, 'input_schema'],
    ['client:tool-register', { ...REGISTER, input_schema: null }, 'input_schema'],
    ['client:tool-register', { type: 'client:tool-register', name: 'x' }, 'input_schema'],
    ['client:tool-register', { ...REGISTER, metadata: { max_execution_time_ms: -1 } }, 'metadata'],
    ['client:tool-register', { ...REGISTER, metadata: 'fast' }, 'metadata'],
    [
      'client:tool-register',
      { ...REGISTER, metadata: { annotations: { readOnlyHint: 'yes' } } },
      'metadata',
    ],
    ['client:tool-register', { ...REGISTER, name: 1, input_schema: 2 }, 'name'],
    ['client:tool-register-batch', { type: 'client:tool-register-batch' }, 'tools'],
    ['client:tool-register-batch', { type: 'client:tool-register-batch', tools: {} }, 'tools'],
    [
      'client:tool-register-batch',
      { type: 'client:tool-register-batch', tools: Array.from({ length: 257 }, () => REGISTER) },
      'tools',
    ],
    [
      'client:tool-register-batch',
      { type: 'client:tool-register-batch', tools: [], replace: 'yes' },
      'replace',
    ],
    ['client:tool-unregister', { type: 'client:tool-unregister' }, 'name'],
    ['client:tool-unregister', { type: 'client:tool-unregister', name: ['x'] }, 'name'],
    ['client:tool-result', { type: 'client:tool-result', result: 1 }, 'call_id'],
    ['client:tool-result', { type: 'client:tool-result', call_id: '', result: 1 }, 'call_id'],
    [
      'client:tool-result',
      { type: 'client:tool-result', call_id: 'c'.repeat(129), result: 1 },
      'call_id',
    ],
    ['client:tool-result', { type: 'client:tool-result', call_id: 'tc_1', error: 42 }, 'error'],
    [
      'client:tool-result',
      { type: 'client:tool-result', call_id: 'tc_1', error: { code: 'E' } },
      'error',
    ],
    [
      'client:tool-result',
      { type: 'client:tool-result', call_id: 'tc_1', error: 'e'.repeat(8_193) },
      'error',
    ],
    ['client:tool-progress', { type: 'client:tool-progress', call_id: 'tc_1' }, 'progress'],
    [
      'client:tool-progress',
      { type: 'client:tool-progress', call_id: 'tc_1', progress: '50%' },
      'progress',
    ],
    [
      'client:tool-progress',
      { type: 'client:tool-progress', call_id: 'tc_1', progress: 1, total: 'ten' },
      'total',
    ],
    [
      'client:tool-progress',
      { type: 'client:tool-progress', call_id: 'tc_1', progress: 1, message: 'm'.repeat(1_001) },
      'message',
    ],
  ])('classifies a bad %s as invalid (case %#), naming the field', (type, frame, field) => {
    const result = failure(JSON.stringify(frame));
    expect(result.problem).toBe('invalid');
    expect(result.type).toBe(type);
    expect(result.field).toBe(field);
    expect(result.raw).toEqual(frame);
    expect(result.error).toContain(field);
  });

  it('describes at most five issues and counts the rest', () => {
    const result = failure(
      JSON.stringify({
        type: 'client:tool-register',
        name: 1,
        description: 2,
        input_schema: 3,
        metadata: 4,
      }),
    );
    expect(result.problem).toBe('invalid');
    expect(result.field).toBe('name');
    expect(result.error.split('; ').length).toBeLessThanOrEqual(6);
    expect(result.error).toMatch(/^name: /);
    expect(result.error).toContain('input_schema: ');
  });

  it('never throws, whatever the text', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const deepObject = `{"type":"client:tool-result","call_id":"tc_1","result":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`;
    const texts = [
      '',
      ' ',
      '\u0000',
      '\uD800',
      '{"type":"client:tool-register","name":"\uD800"}',
      deep,
      deepObject,
      '{"type":"client:tool-progress","call_id":"x","progress":1e400}',
      '{"type":"client:tool-result","call_id":"x","result":{"__proto__":null}}',
      JSON.stringify({ type: 'client:tool-register-batch', tools: [null, 1, 'x', [], {}] }),
    ];
    for (const text of texts) {
      expect(() => decode(text), text.slice(0, 40)).not.toThrow();
    }
    // Past the depth cap (64), refused before JSON.parse ever sees it.
    expect(failure(deepObject)).toMatchObject({ problem: 'too-deep' });
    expect(failure(deep)).toMatchObject({ problem: 'too-deep' });
    // 1e400 parses as Infinity, which progress refuses.
    expect(failure('{"type":"client:tool-progress","call_id":"x","progress":1e400}')).toMatchObject(
      { problem: 'invalid', field: 'progress' },
    );
  });
});

describe('decodeFrame: valid provider frames', () => {
  it('client:tool-register, with defaults and unknown keys dropped', () => {
    expect(
      frameOf(
        JSON.stringify({
          type: 'client:tool-register',
          name: 'notify',
          input_schema: { type: 'object' },
          extra: 'ignored',
        }),
      ),
    ).toEqual({
      type: 'client:tool-register',
      name: 'notify',
      description: '',
      input_schema: { type: 'object' },
    });
  });

  it('client:tool-register with metadata', () => {
    const frame = {
      ...REGISTER,
      metadata: {
        max_execution_time_ms: 5_000,
        annotations: { title: 'Arm', readOnlyHint: false, destructiveHint: true },
      },
    };
    expect(frameOf(JSON.stringify(frame))).toEqual(frame);
  });

  it('client:tool-register-batch, replace defaulting to false', () => {
    expect(
      frameOf(JSON.stringify({ type: 'client:tool-register-batch', tools: [REGISTER, 42] })),
    ).toEqual({ type: 'client:tool-register-batch', tools: [REGISTER, 42], replace: false });
    expect(
      frameOf(JSON.stringify({ type: 'client:tool-register-batch', tools: [], replace: true })),
    ).toEqual({ type: 'client:tool-register-batch', tools: [], replace: true });
  });

  it('client:tool-unregister', () => {
    expect(frameOf('{"type":"client:tool-unregister","name":"move_arm"}')).toEqual({
      type: 'client:tool-unregister',
      name: 'move_arm',
    });
  });

  it.each([
    ['an object result', { result: { shown: true } }],
    ['a null result', { result: null }],
    ['no result at all', {}],
    ['an array result', { result: [1, 2] }],
    ['a string error', { error: 'permission denied' }],
    ['an object error', { error: { message: 'no', code: 'E_NO', data: { at: 1 } } }],
    ['a result with error null', { result: 3, error: null }],
  ])('client:tool-result with %s', (_what, body) => {
    const frame = { type: 'client:tool-result', call_id: 'tc_abc123def456', ...body };
    expect(frameOf(JSON.stringify(frame))).toEqual(frame);
  });

  it('client:tool-progress', () => {
    const frame = {
      type: 'client:tool-progress',
      call_id: 'tc_abc123def456',
      progress: 0.5,
      total: 1,
      message: 'halfway',
    };
    expect(frameOf(JSON.stringify(frame))).toEqual(frame);
    expect(frameOf('{"type":"client:tool-progress","call_id":"c","progress":-3}')).toEqual({
      type: 'client:tool-progress',
      call_id: 'c',
      progress: -3,
    });
  });

  it('decodes with any schema map (the proxy frames, for a provider)', () => {
    const result = decodeFrame(
      '{"type":"agent:tool-call","call_id":"tc_1","name":"x","arguments":{}}',
      ProxyFrameSchemas,
    );
    expect(result).toEqual({
      ok: true,
      frame: { type: 'agent:tool-call', call_id: 'tc_1', name: 'x', arguments: {} },
    });
    const providerType = decodeFrame(
      '{"type":"client:tool-unregister","name":"x"}',
      ProxyFrameSchemas,
    );
    expect(providerType).toMatchObject({ ok: false, problem: 'unknown-type' });
  });
});

describe('decodeFrame: prototype pollution', () => {
  afterEach(() => {
    // Clean up if a test did pollute, so one failure does not cascade.
    for (const key of ['polluted', 'isAdmin']) {
      if (Object.hasOwn(Object.prototype, key)) Reflect.deleteProperty(Object.prototype, key);
    }
  });

  function assertClean(): void {
    const probe: Record<string, unknown> = {};
    expect(probe.polluted).toBeUndefined();
    expect(probe.isAdmin).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
    expect(Object.hasOwn(Object.prototype, 'isAdmin')).toBe(false);
  }

  it('__proto__ and constructor keys at the top level pollute nothing', () => {
    const text =
      '{"type":"client:tool-register","name":"x","input_schema":{"type":"object"},' +
      '"__proto__":{"polluted":true},"constructor":{"prototype":{"isAdmin":true}}}';
    const result = decode(text);
    assertClean();
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(Object.getPrototypeOf(result.frame)).toBe(Object.prototype);
      expect(Object.hasOwn(result.frame, '__proto__')).toBe(false);
      expect(Object.hasOwn(result.frame, 'constructor')).toBe(false);
    }
  });

  it('__proto__ and constructor keys inside input_schema pollute nothing', () => {
    const text =
      '{"type":"client:tool-register","name":"x","input_schema":{"type":"object",' +
      '"__proto__":{"polluted":true},"constructor":{"prototype":{"isAdmin":true}}}}';
    const result = decode(text);
    assertClean();
    expect(result.ok).toBe(true);
    if (result.ok && result.frame.type === 'client:tool-register') {
      const schema = result.frame.input_schema;
      expect(Object.getPrototypeOf(schema)).toBe(Object.prototype);
      expect(schema.polluted).toBeUndefined();
      expect(schema.type).toBe('object');
    }
  });

  it('__proto__ keys in results, in unknown-type and invalid frames pollute nothing', () => {
    const texts = [
      '{"type":"client:tool-result","call_id":"tc_1","result":{"__proto__":{"polluted":true}}}',
      '{"type":"client:tool-result","call_id":"tc_1","error":{"message":"m","data":{"__proto__":{"polluted":1}}}}',
      '{"type":"client:nope","__proto__":{"polluted":true}}',
      '{"__proto__":{"polluted":true}}',
      '{"type":"client:tool-register","name":1,"__proto__":{"polluted":true}}',
      '{"type":"client:tool-register-batch","tools":[{"__proto__":{"polluted":true}}]}',
      '{"type":"__proto__","__proto__":{"isAdmin":true}}',
    ];
    for (const text of texts) {
      expect(() => decode(text)).not.toThrow();
      assertClean();
    }
    const invalid = failure(
      '{"type":"client:tool-register","name":1,"__proto__":{"polluted":true}}',
    );
    expect(invalid.raw).toBeDefined();
    expect(invalid.raw?.polluted).toBeUndefined();
  });
});

describe('encodeFrame', () => {
  const proxyFrames: OutboundProxyFrame[] = [
    {
      type: 'agent:hello',
      protocol_version: 1,
      default_timeout_ms: 30_000,
      max_tool_timeout_ms: 120_000,
    },
    { type: 'agent:tool-registered', name: 'x', success: true, exposed_name: 'x_0badf00d' },
    {
      type: 'agent:tool-registered',
      name: 'x',
      success: false,
      reason: 'name-invalid',
      detail: 'd',
    },
    { type: 'agent:tool-unregistered', name: 'x', success: false, reason: 'not-owned-by-you' },
    {
      type: 'agent:tool-call',
      call_id: 'tc_abc123def456',
      name: 'x',
      arguments: { a: [1, { b: null }], s: 'é"\n' },
      timeout_ms: 30_000,
    },
    {
      type: 'agent:tool-call-cancelled',
      call_id: 'tc_abc123def456',
      name: 'x',
      reason: 'agent-loop-stopped',
      detail: 'Stop requested',
    },
    { type: 'agent:tool-call-timeout', call_id: 'tc_abc123def456', name: 'x' },
  ];

  it.each(proxyFrames.map((frame) => [frame.type, frame] as const))(
    'round-trips %s through decodeFrame',
    (_type, frame) => {
      const text = encodeFrame(frame);
      expect(typeof text).toBe('string');
      const result: DecodeResult<ProxyFrame> = decodeFrame(text, ProxyFrameSchemas);
      expect(result).toEqual({ ok: true, frame });
    },
  );

  const providerFrames: OutboundProviderFrame[] = [
    { ...REGISTER, type: 'client:tool-register', metadata: { max_execution_time_ms: 10 } },
    { type: 'client:tool-register-batch', tools: [REGISTER], replace: true },
    { type: 'client:tool-unregister', name: 'x' },
    { type: 'client:tool-result', call_id: 'tc_1', result: { ok: true } },
    { type: 'client:tool-result', call_id: 'tc_1', error: { message: 'm', code: 'E' } },
    { type: 'client:tool-progress', call_id: 'tc_1', progress: 2, total: 4, message: 'half' },
  ];

  it.each(providerFrames.map((frame) => [frame.type, frame] as const))(
    'round-trips %s through decodeFrame',
    (_type, frame) => {
      expect(decode(encodeFrame(frame))).toEqual({ ok: true, frame });
    },
  );

  it('is plain JSON text', () => {
    const frame = { type: 'agent:tool-call-timeout', call_id: 'tc_1', name: 'x' };
    expect(encodeFrame(frame)).toBe(JSON.stringify(frame));
    expect(JSON.parse(encodeFrame(frame))).toEqual(frame);
  });
});
