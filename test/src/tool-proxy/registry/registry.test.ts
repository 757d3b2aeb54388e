import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ToolRegistration } from '../../../../src/protocol/frames.js';
import { stableHash, suffixedName } from '../../../../src/protocol/tool-names.js';
import {
  type RegisteredTool,
  type RegisterOutcome,
  type RegistrationRequest,
  type RegistryChange,
  type RegistryOptions,
  ToolRegistry,
} from '../../../../src/tool-proxy/registry/registry.js';
import { microtasks, setup } from '../../../support/harness.js';
import { WirePeer } from '../../../support/wire-peer.js';

const SCHEMA = { type: 'object', properties: { x: { type: 'number' } } };

function tool(name: string, extra: Partial<ToolRegistration> = {}): ToolRegistration {
  return { name, description: `${name} tool`, input_schema: SCHEMA, ...extra };
}

function registered(outcome: RegisterOutcome): RegisteredTool {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.reason}: ${outcome.detail}`);
  return outcome.tool;
}

function withChanges(options: Omit<RegistryOptions, 'onChange'> = {}): {
  registry: ToolRegistry;
  changes: RegistryChange[];
} {
  const changes: RegistryChange[] = [];
  const registry = new ToolRegistry({ ...options, onChange: (change) => changes.push(change) });
  return { registry, changes };
}

/** `kind`, exposed name and (for removals) cause of each change, in order. */
function summarize(changes: readonly RegistryChange[]): string[] {
  return changes.map((c) =>
    c.kind === 'unregistered'
      ? `${c.kind}:${c.tool.exposedName}:${c.cause}`
      : `${c.kind}:${c.tool.exposedName}`,
  );
}

describe('ToolRegistry: register, update, unchanged', () => {
  it('registers a tool under its own name with everything the provider sent', () => {
    const registry = new ToolRegistry();
    const outcome = registry.register(
      'robot',
      tool('move_arm', {
        description: 'moves the arm',
        metadata: { max_execution_time_ms: 5_000, annotations: { destructiveHint: true } },
      }),
    );
    expect(outcome).toMatchObject({ ok: true, change: 'registered' });
    const t = registered(outcome);
    expect(t).toMatchObject({
      exposedName: 'move_arm',
      name: 'move_arm',
      provider: 'robot',
      description: 'moves the arm',
      inputSchema: SCHEMA,
      annotations: { destructiveHint: true },
      timeoutMs: 5_000,
    });
    expect(registry.get('move_arm')).toBe(t);
    expect(registry.size).toBe(1);
    expect(t.validator.check({ x: 1 })).toEqual({ ok: true });
    expect(t.validator.check({ x: 'no' })).toMatchObject({ ok: false });
  });

  it('a changed description, schema or metadata is an update that keeps the exposed name', () => {
    const { registry, changes } = withChanges();
    registered(registry.register('robot', tool('grip')));
    const byDescription = registry.register('robot', tool('grip', { description: 'grips' }));
    expect(byDescription).toMatchObject({ ok: true, change: 'updated' });
    const bySchema = registry.register(
      'robot',
      tool('grip', {
        description: 'grips',
        input_schema: { type: 'object', properties: { force: { type: 'number' } } },
      }),
    );
    expect(bySchema).toMatchObject({ ok: true, change: 'updated' });
    const byMetadata = registry.register(
      'robot',
      tool('grip', {
        description: 'grips',
        input_schema: { type: 'object', properties: { force: { type: 'number' } } },
        metadata: { max_execution_time_ms: 1_000 },
      }),
    );
    expect(byMetadata).toMatchObject({ ok: true, change: 'updated' });
    const latest = registered(byMetadata);
    expect(registry.get('grip')).toBe(latest);
    expect(latest.timeoutMs).toBe(1_000);
    expect(latest.validator.check({ force: 'hard' })).toMatchObject({ ok: false });
    expect(registry.size).toBe(1);
    expect(summarize(changes)).toEqual([
      'registered:grip',
      'updated:grip',
      'updated:grip',
      'updated:grip',
    ]);
  });

  it('an identical re-registration is unchanged: same tool, no change event', () => {
    const { registry, changes } = withChanges();
    const first = registered(registry.register('robot', tool('grip')));
    // A structurally equal copy, not the same object.
    const again = registry.register('robot', {
      name: 'grip',
      description: 'grip tool',
      input_schema: { type: 'object', properties: { x: { type: 'number' } } },
    });
    expect(again).toMatchObject({ ok: true, change: 'unchanged' });
    expect(registered(again)).toBe(first);
    expect(registry.get('grip')).toBe(first);
    expect(summarize(changes)).toEqual(['registered:grip']);
  });

  it('an update whose schema does not compile is refused and keeps the previous tool', () => {
    const { registry, changes } = withChanges();
    const first = registered(registry.register('robot', tool('grip')));
    const outcome = registry.register('robot', tool('grip', { input_schema: { type: 'string' } }));
    expect(outcome).toMatchObject({ ok: false, reason: 'schema-invalid' });
    expect(registry.get('grip')).toBe(first);
    expect(first.validator.check({ x: 1 })).toEqual({ ok: true });
    expect(summarize(changes)).toEqual(['registered:grip']);
  });
});

describe('ToolRegistry: names', () => {
  it('accepts names of 1 to 64 letters, digits, _ and -, not starting with a digit or -', () => {
    const registry = new ToolRegistry();
    for (const name of ['a', '_', 'A1', 'move_arm', 'move-arm', '_x-9', 'a'.repeat(64)]) {
      expect(registry.register('p', tool(name)), name).toMatchObject({ ok: true });
    }
  });

  it.each([
    ['empty', ''],
    ['a space', 'move arm'],
    ['a dot', 'robot.move'],
    ['a slash', 'a/b'],
    ['non-ASCII', 'bewegé'],
    ['a leading digit', '1tool'],
    ['a leading dash', '-tool'],
    ['65 chars', 'a'.repeat(65)],
    ['a newline', 'tool\n'],
  ])('refuses a name with %s as name-invalid', (_what, name) => {
    const { registry, changes } = withChanges();
    const outcome = registry.register('p', tool(name));
    expect(outcome).toMatchObject({ ok: false, reason: 'name-invalid' });
    if (!outcome.ok) expect(outcome.detail).toMatch(/must match/);
    expect(registry.size).toBe(0);
    expect(changes).toEqual([]);
  });

  it('the second provider of a name gets name_<8 hex> derived from its identity', () => {
    const { registry } = withChanges();
    registered(registry.register('robot-1', tool('move')));
    const second = registered(registry.register('robot-2', tool('move')));
    expect(second.exposedName).toMatch(/^move_[0-9a-f]{8}$/);
    expect(second.exposedName).toBe(`move_${stableHash('robot-2')}`);
    expect(second.name).toBe('move');
    expect(second.provider).toBe('robot-2');
    expect(registry.get('move')?.provider).toBe('robot-1');
    expect(registry.get(second.exposedName)).toBe(second);
    expect(
      registry
        .list()
        .map((t) => t.exposedName)
        .sort(),
    ).toEqual(['move', second.exposedName].sort());
  });

  it('a suffixed name of a 64-char name stays within 64 chars', () => {
    const registry = new ToolRegistry();
    const long = 'n'.repeat(64);
    registered(registry.register('a', tool(long)));
    const other = registered(registry.register('b', tool(long)));
    expect(other.exposedName).toHaveLength(64);
    expect(other.exposedName).toBe(suffixedName(long, 'b'));
    expect(other.exposedName.endsWith(`_${stableHash('b')}`)).toBe(true);
  });

  it('the suffix is stable for the same provider identity across registrations and registries', () => {
    const registry = new ToolRegistry();
    registered(registry.register('robot-1', tool('move')));
    const first = registered(registry.register('robot-2', tool('move'))).exposedName;
    expect(registry.unregister('robot-2', 'move')).toMatchObject({ ok: true });
    const again = registered(registry.register('robot-2', tool('move'))).exposedName;
    expect(again).toBe(first);

    const elsewhere = new ToolRegistry();
    registered(elsewhere.register('someone-else', tool('move')));
    expect(registered(elsewhere.register('robot-2', tool('move'))).exposedName).toBe(first);

    // A different identity gets a different suffix.
    const third = registered(registry.register('robot-3', tool('move'))).exposedName;
    expect(third).toMatch(/^move_[0-9a-f]{8}$/);
    expect(third).not.toBe(first);
  });

  it('a suffixed name stays put through updates while the plain name is held', () => {
    const { registry } = withChanges();
    registered(registry.register('robot-1', tool('move')));
    const suffixed = registered(registry.register('robot-2', tool('move'))).exposedName;
    const updated = registry.register('robot-2', tool('move', { description: 'new text' }));
    expect(updated).toMatchObject({ ok: true, change: 'updated' });
    expect(registered(updated).exposedName).toBe(suffixed);
    const unchanged = registry.register('robot-2', tool('move', { description: 'new text' }));
    expect(registered(unchanged).exposedName).toBe(suffixed);
    expect(registry.get('move')?.provider).toBe('robot-1');
  });

  it('a freed plain name returns to the oldest suffixed holder, reported as a rename', () => {
    const { registry, changes } = withChanges();
    registered(registry.register('robot-1', tool('move')));
    const second = registered(registry.register('robot-2', tool('move'))).exposedName;
    const third = registered(registry.register('robot-3', tool('move'))).exposedName;
    // robot-3 updating its tool does not make it older than robot-2.
    registered(registry.register('robot-3', tool('move', { description: 'v2' })));
    changes.length = 0;
    expect(registry.unregister('robot-1', 'move')).toMatchObject({ ok: true });
    expect(summarize(changes)).toEqual(['unregistered:move:unregistered', 'renamed:move']);
    expect(changes[1]).toMatchObject({
      kind: 'renamed',
      previousName: second,
      tool: { provider: 'robot-2', name: 'move' },
    });
    expect(registry.get('move')?.provider).toBe('robot-2');
    expect(registry.get(second)).toBeUndefined();
    expect(registry.get(third)?.provider).toBe('robot-3');
    expect(registry.list().map((t) => t.exposedName)).toEqual(['move', third].sort());
    // It keeps the plain name through its own updates, and unregisters by its own name.
    const update = registered(registry.register('robot-2', tool('move', { description: 'v3' })));
    expect(update.exposedName).toBe('move');
    // When it leaves too, the next oldest takes the name.
    registry.removeProvider('robot-2');
    expect(registry.get('move')?.provider).toBe('robot-3');
    expect(registry.unregister('robot-3', 'move')).toMatchObject({
      ok: true,
      tool: { exposedName: 'move' },
    });
    expect(registry.size).toBe(0);
  });

  it('a squatter that took the name while its provider restarted gives it back when it leaves', () => {
    const { registry, changes } = withChanges();
    registered(registry.register('honest-robot', tool('open_door')));
    registry.removeProvider('honest-robot'); // restarting
    registered(registry.register('squatter', tool('open_door')));
    const honest = registered(registry.register('honest-robot', tool('open_door')));
    expect(honest.exposedName).toBe(suffixedName('open_door', 'honest-robot'));
    changes.length = 0;
    registry.removeProvider('squatter');
    expect(summarize(changes)).toEqual([
      'unregistered:open_door:provider-left',
      'renamed:open_door',
    ]);
    expect(registry.get('open_door')?.provider).toBe('honest-robot');
    expect(registry.size).toBe(1);
  });

  it('freeing a suffixed name renames nobody', () => {
    const { registry, changes } = withChanges();
    registered(registry.register('robot-1', tool('move')));
    registered(registry.register('robot-2', tool('move')));
    changes.length = 0;
    registry.removeProvider('robot-2');
    expect(summarize(changes)).toEqual([
      `unregistered:${suffixedName('move', 'robot-2')}:provider-left`,
    ]);
    expect(registry.get('move')?.provider).toBe('robot-1');
  });

  it("the first provider's own updates keep the plain name", () => {
    const registry = new ToolRegistry();
    registered(registry.register('robot-1', tool('move')));
    registered(registry.register('robot-2', tool('move')));
    const update = registry.register('robot-1', tool('move', { description: 'v2' }));
    expect(update).toMatchObject({ ok: true, change: 'updated', tool: { exposedName: 'move' } });
  });

  it("with onNameCollision: 'reject' the second provider gets name-taken", () => {
    const { registry, changes } = withChanges({ onNameCollision: 'reject' });
    registered(registry.register('robot-1', tool('move')));
    const outcome = registry.register('robot-2', tool('move'));
    expect(outcome).toMatchObject({ ok: false, reason: 'name-taken' });
    if (!outcome.ok) expect(outcome.detail).toContain('"move"');
    // The owner may still update it; others may use other names.
    expect(registry.register('robot-1', tool('move', { description: 'v2' }))).toMatchObject({
      ok: true,
      change: 'updated',
    });
    expect(registry.register('robot-2', tool('grip'))).toMatchObject({ ok: true });
    expect(summarize(changes)).toEqual(['registered:move', 'updated:move', 'registered:grip']);
  });

  it('refuses with registry-collision when the name and its alternative are both taken', () => {
    const { registry, changes } = withChanges();
    const alternative = suffixedName('move', 'robot-2');
    registered(registry.register('robot-9', tool(alternative)));
    registered(registry.register('robot-1', tool('move')));
    const outcome = registry.register('robot-2', tool('move'));
    expect(outcome).toMatchObject({ ok: false, reason: 'registry-collision' });
    if (!outcome.ok) expect(outcome.detail).toContain(alternative);
    expect(registry.size).toBe(2);
    expect(registry.namesOf('robot-2')).toEqual([]);
    expect(changes).toHaveLength(2);
  });
});

describe('ToolRegistry: limits and policy', () => {
  it('refuses a description over maxDescriptionChars as description-invalid', () => {
    const registry = new ToolRegistry({ maxDescriptionChars: 10 });
    expect(registry.register('p', tool('ok', { description: 'x'.repeat(10) }))).toMatchObject({
      ok: true,
    });
    const outcome = registry.register('p', tool('long', { description: 'x'.repeat(11) }));
    expect(outcome).toMatchObject({ ok: false, reason: 'description-invalid' });
    if (!outcome.ok) expect(outcome.detail).toMatch(/11 chars.*10/);
    expect(registry.get('long')).toBeUndefined();
  });

  it('the default description limit is 4096 chars', () => {
    const registry = new ToolRegistry();
    expect(registry.register('p', tool('a', { description: 'x'.repeat(4_096) }))).toMatchObject({
      ok: true,
    });
    expect(registry.register('p', tool('b', { description: 'x'.repeat(4_097) }))).toMatchObject({
      ok: false,
      reason: 'description-invalid',
    });
  });

  it('refuses a tool past maxToolsPerProvider as too-many-tools, but allows updates', () => {
    const { registry, changes } = withChanges({ maxToolsPerProvider: 2 });
    registered(registry.register('p', tool('a')));
    registered(registry.register('p', tool('b')));
    const outcome = registry.register('p', tool('c'));
    expect(outcome).toMatchObject({ ok: false, reason: 'too-many-tools' });
    if (!outcome.ok) expect(outcome.detail).toContain('2');
    expect(registry.register('p', tool('a', { description: 'v2' }))).toMatchObject({
      ok: true,
      change: 'updated',
    });
    // The limit is per provider.
    expect(registry.register('q', tool('c'))).toMatchObject({ ok: true });
    // Freeing a slot lets the provider register again ('c' is taken by q, so p's is suffixed).
    expect(registry.unregister('p', 'b')).toMatchObject({ ok: true });
    expect(registry.register('p', tool('c'))).toMatchObject({ ok: true });
    expect(summarize(changes)).toEqual([
      'registered:a',
      'registered:b',
      'updated:a',
      'registered:c',
      'unregistered:b:unregistered',
      `registered:${suffixedName('c', 'p')}`,
    ]);
    expect(registry.namesOf('p').sort()).toEqual(['a', 'c']);
  });

  it('refuses a registration the policy answers false to, as not-allowed', () => {
    const requests: RegistrationRequest[] = [];
    const policy = vi.fn((request: RegistrationRequest) => {
      requests.push(request);
      return request.provider === 'trusted';
    });
    const { registry, changes } = withChanges({ policy });
    const refused = registry.register(
      'stranger',
      tool('launch', { metadata: { annotations: { destructiveHint: true } } }),
    );
    expect(refused).toMatchObject({ ok: false, reason: 'not-allowed' });
    if (!refused.ok) expect(refused.detail).toContain('stranger');
    expect(requests[0]).toEqual({
      provider: 'stranger',
      peer: { identity: 'stranger' },
      name: 'launch',
      description: 'launch tool',
      annotations: { destructiveHint: true },
    });
    expect(registry.register('trusted', tool('launch'))).toMatchObject({ ok: true });
    expect(summarize(changes)).toEqual(['registered:launch']);
  });

  it("refuses a peer its transport's provider policy excludes (mayProvide: false), whatever the proxy policy says", () => {
    const registry = new ToolRegistry({ policy: () => true });
    const stranger = { identity: 'stranger', attributes: {}, mayProvide: false };
    expect(registry.register(stranger, tool('launch'))).toMatchObject({
      ok: false,
      reason: 'not-allowed',
      detail: expect.stringContaining('"stranger" is not allowed to offer tools'),
    });
    expect(
      registry.register({ identity: 'robot', mayProvide: true }, tool('launch')),
    ).toMatchObject({ ok: true });
  });

  it('a policy answer {allow:false, reason} is not-allowed with that reason as detail', () => {
    const registry = new ToolRegistry({
      policy: (request) =>
        request.name.startsWith('admin_') ? { allow: false, reason: 'admin tools are off' } : true,
    });
    expect(registry.register('p', tool('admin_reset'))).toEqual({
      ok: false,
      reason: 'not-allowed',
      detail: 'admin tools are off',
    });
    expect(registry.register('p', tool('user_reset'))).toMatchObject({ ok: true });
  });

  it('a policy answer {allow:false} without a reason still explains the refusal', () => {
    const registry = new ToolRegistry({ policy: () => ({ allow: false }) });
    const outcome = registry.register('p', tool('x'));
    expect(outcome).toMatchObject({ ok: false, reason: 'not-allowed' });
    if (!outcome.ok) expect(outcome.detail).toMatch(/"p".*"x"/);
  });

  it('refuses an input schema that is not type object as schema-invalid', () => {
    const registry = new ToolRegistry();
    expect(registry.register('p', tool('x', { input_schema: {} }))).toMatchObject({
      ok: false,
      reason: 'schema-invalid',
    });
    expect(
      registry.register('p', tool('y', { input_schema: { type: 'object', maxProperties: 'x' } })),
    ).toMatchObject({ ok: false, reason: 'schema-invalid' });
    expect(registry.size).toBe(0);
  });

  it('applies schema limits from its options', () => {
    const registry = new ToolRegistry({ maxSchemaDepth: 2 });
    const outcome = registry.register(
      'p',
      tool('deep', { input_schema: { type: 'object', properties: { a: { type: 'string' } } } }),
    );
    expect(outcome).toMatchObject({ ok: false, reason: 'schema-invalid' });
    if (!outcome.ok) expect(outcome.detail).toMatch(/deeper than 2/);
  });

  it('refuses a hostile nesting depth as schema-invalid instead of throwing', () => {
    let nested: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 100_000; i++) nested = { not: nested };
    const registry = new ToolRegistry();
    let outcome: RegisterOutcome | undefined;
    expect(() => {
      outcome = registry.register(
        'p',
        tool('deep', { input_schema: { type: 'object', x: nested } }),
      );
    }).not.toThrow();
    expect(outcome).toMatchObject({ ok: false, reason: 'schema-invalid' });
  });
});

describe('ToolRegistry: unregister and removeProvider', () => {
  it('unregisters a tool of its own provider', () => {
    const { registry, changes } = withChanges();
    const t = registered(registry.register('p', tool('x')));
    expect(registry.unregister('p', 'x')).toEqual({ ok: true, tool: t });
    expect(registry.get('x')).toBeUndefined();
    expect(registry.size).toBe(0);
    expect(registry.namesOf('p')).toEqual([]);
    expect(summarize(changes)).toEqual(['registered:x', 'unregistered:x:unregistered']);
  });

  it('answers not-found for a name nobody registered', () => {
    const registry = new ToolRegistry();
    registered(registry.register('p', tool('x')));
    expect(registry.unregister('p', 'nope')).toEqual({ ok: false, reason: 'not-found' });
    expect(registry.unregister('q', 'nope')).toEqual({ ok: false, reason: 'not-found' });
  });

  it("answers not-owned-by-you for another provider's tool and leaves it registered", () => {
    const { registry, changes } = withChanges();
    const t = registered(registry.register('owner', tool('x')));
    expect(registry.unregister('intruder', 'x')).toEqual({
      ok: false,
      reason: 'not-owned-by-you',
    });
    expect(registry.get('x')).toBe(t);
    expect(changes).toHaveLength(1);
  });

  it('unregisters a suffixed tool by the name its provider registered', () => {
    const registry = new ToolRegistry();
    registered(registry.register('a', tool('x')));
    const suffixed = registered(registry.register('b', tool('x')));
    expect(registry.unregister('b', 'x')).toMatchObject({ ok: true, tool: suffixed });
    expect(registry.get(suffixed.exposedName)).toBeUndefined();
    expect(registry.get('x')?.provider).toBe('a');
  });

  it('removeProvider drops every tool of that provider with cause provider-left', () => {
    const { registry, changes } = withChanges();
    registered(registry.register('p', tool('a')));
    registered(registry.register('p', tool('b')));
    registered(registry.register('q', tool('c')));
    changes.length = 0;
    const removed = registry.removeProvider('p');
    expect(removed.map((t) => t.name).sort()).toEqual(['a', 'b']);
    expect(registry.list().map((t) => t.exposedName)).toEqual(['c']);
    expect(registry.namesOf('p')).toEqual([]);
    expect(summarize(changes).sort()).toEqual([
      'unregistered:a:provider-left',
      'unregistered:b:provider-left',
    ]);
    expect(registry.removeProvider('p')).toEqual([]);
    expect(registry.removeProvider('never-seen')).toEqual([]);
    expect(changes).toHaveLength(2);
  });
});

describe('ToolRegistry: list and onChange', () => {
  it('list() is sorted by exposed name and stable between changes', () => {
    const registry = new ToolRegistry();
    for (const name of ['b', 'a', 'C', '_z', 'a-1', 'a_1'])
      registered(registry.register('p', tool(name)));
    const suffixed = registered(registry.register('q', tool('b'))).exposedName;
    const names = registry.list().map((t) => t.exposedName);
    const expected = ['C', '_z', 'a', 'a-1', 'a_1', 'b', suffixed];
    expected.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    expect(names).toEqual(expected);
    expect(registry.list()).toEqual(registry.list());
    registered(registry.register('p', tool('A')));
    expect(registry.list().map((t) => t.exposedName)[0]).toBe('A');
    expect(registry.list()).toHaveLength(expected.length + 1);
  });

  it('list() does not depend on registration order', () => {
    const names = ['delta', 'alpha', 'charlie', 'bravo'];
    const one = new ToolRegistry();
    const two = new ToolRegistry();
    for (const n of names) registered(one.register('p', tool(n)));
    for (const n of [...names].reverse()) registered(two.register('p', tool(n)));
    expect(one.list().map((t) => t.exposedName)).toEqual(['alpha', 'bravo', 'charlie', 'delta']);
    expect(two.list().map((t) => t.exposedName)).toEqual(['alpha', 'bravo', 'charlie', 'delta']);
  });

  it('onChange reports registered, updated and unregistered with their causes, in order', () => {
    const { registry, changes } = withChanges();
    registered(registry.register('p', tool('a')));
    registered(registry.register('p', tool('a')));
    registered(registry.register('p', tool('a', { description: 'v2' })));
    registered(registry.register('p', tool('b')));
    registered(registry.register('q', tool('a')));
    expect(registry.register('p', tool('bad name'))).toMatchObject({ ok: false });
    expect(registry.unregister('p', 'b')).toMatchObject({ ok: true });
    expect(registry.unregister('p', 'b')).toMatchObject({ ok: false });
    registry.removeProvider('q');
    const suffixed = suffixedName('a', 'q');
    expect(summarize(changes)).toEqual([
      'registered:a',
      'updated:a',
      'registered:b',
      `registered:${suffixed}`,
      'unregistered:b:unregistered',
      `unregistered:${suffixed}:provider-left`,
    ]);
    const update = changes[1];
    expect(update?.kind).toBe('updated');
    expect(update?.tool.description).toBe('v2');
  });

  it('the change event carries the stored tool', () => {
    const { registry, changes } = withChanges();
    const t = registered(registry.register('p', tool('a')));
    expect(changes[0]?.tool).toBe(t);
    registry.unregister('p', 'a');
    expect(changes[1]?.tool).toBe(t);
  });
});

describe('registration', () => {
  // Through a real proxy and room, on fake timers.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a replace batch from a provider at its cap swaps its tools instead of refusing the new ones', async () => {
    const { proxy, room } = await setup({ maxToolsPerProvider: 2 });
    const page = await WirePeer.join(room, 'page');
    await page.register('a');
    await page.register('b');
    const tool = (name: string) => ({ name, description: name, input_schema: { type: 'object' } });
    await page.send({
      type: 'client:tool-register-batch',
      replace: true,
      tools: [tool('c'), tool('d')],
    });
    await microtasks();
    expect(
      proxy
        .tools()
        .filter((t) => t.provider === 'page')
        .map((t) => t.name),
    ).toEqual(['c', 'd']);
    expect(page.frames('agent:tool-registered').map((f) => f.success)).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });

  it('a registration policy that throws refuses the tool (not-allowed) and still answers', async () => {
    const { robot } = await setup({
      policy: () => {
        throw new Error('policy store offline');
      },
    });
    expect(robot.frames('agent:tool-registered')).toEqual([
      expect.objectContaining({
        name: 'move_arm',
        success: false,
        reason: 'not-allowed',
        detail: expect.stringContaining('policy store offline'),
      }),
      expect.objectContaining({ name: 'ping', success: false, reason: 'not-allowed' }),
    ]);
  });
});
