/**
 * Every folder's way into another, read from the sources so no config file alone can switch it off:
 * the core (src/) knows no transport and no agent framework, the provider entry stays browser-safe,
 * each folder reaches others only through the doors in its row below, and no file imports itself
 * round a cycle. eslint.config.js repeats the doors for editors; this table is the authority.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');
const POLICED = ['src', 'bridge', 'proxy'];
const CORE_PACKAGES = new Set([
  'zod',
  'p-cancelable',
  'ajv',
  'ajv/dist/2020.js',
  'ajv/dist/types/index.js',
  're2js',
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  // Comments out: a JSDoc `import('./x.js')` type names a file but loads nothing.
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const found = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\sfrom\s+['"]([^'"]+)['"]/g),
  ];
  const dynamic = [...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)];
  return [...found, ...dynamic].map((match) => match[1] as string);
}

function resolveRelative(from: string, specifier: string): string {
  return resolve(dirname(from), specifier).replace(/\.js$/, '.ts');
}

const CORE_DOORS = ['src/index.ts', 'src/provider.ts', 'src/seam.ts', 'src/front-seam.ts'];
const BRIDGE_DOORS = [
  'bridge/memory.ts',
  'bridge/livekit/index.ts',
  'bridge/livekit/node-provider.ts',
  'bridge/livekit/browser.ts',
  'bridge/livekit/testing/index.ts',
  'bridge/websocket/index.ts',
  'bridge/websocket/provider.ts',
];
const CORE_SIDE = ['src/shared/', 'src/protocol/', 'src/tool-proxy/'];

/**
 * Folder -> what it may import outside itself: a path ending in `/` is a whole folder (and below),
 * anything else one named file. A folder may always import its own files.
 */
const WAYS_IN: Record<string, string[]> = {
  src: ['src/'],
  'src/shared': [],
  'src/protocol': ['src/shared/'],
  'src/provider': ['src/shared/', 'src/protocol/'],
  'src/tool-proxy': CORE_SIDE,
  'src/tool-proxy/calls': CORE_SIDE,
  'src/tool-proxy/hooks': CORE_SIDE,
  'src/tool-proxy/limits': CORE_SIDE,
  'src/tool-proxy/providers': CORE_SIDE,
  'src/tool-proxy/registry': CORE_SIDE,
  'src/tool-proxy/sessions': CORE_SIDE,
  bridge: CORE_DOORS,
  'bridge/livekit': CORE_DOORS,
  'bridge/livekit/testing': [
    ...CORE_DOORS,
    'bridge/livekit/client-room.ts',
    'bridge/livekit/rtc-room.ts',
  ],
  // The WebSocket bridge speaks LiveKit's token and identity rules, so hermes clients work unchanged.
  'bridge/websocket': [
    ...CORE_DOORS,
    'bridge/livekit/policy.ts',
    'bridge/livekit/room-port.ts',
    'bridge/livekit/token.ts',
  ],
  proxy: [...CORE_DOORS, 'proxy/cli/config.ts', 'proxy/cli/serve.ts'],
  'proxy/kit': CORE_DOORS,
  'proxy/ai-sdk': [...CORE_DOORS, 'proxy/kit/index.ts'],
  'proxy/livekit-agents': [...CORE_DOORS, 'proxy/kit/index.ts'],
  'proxy/mcp': [...CORE_DOORS, 'proxy/kit/index.ts', 'proxy/bearer.ts'],
  'proxy/hooks': [...CORE_DOORS, 'proxy/bearer.ts'],
  'proxy/cli': [
    ...CORE_DOORS,
    ...BRIDGE_DOORS,
    'proxy/bearer.ts',
    'proxy/hooks/index.ts',
    'proxy/mcp/index.ts',
    'proxy/mcp/relay-probe.ts',
    'proxy/mcp/relay-takeover.ts',
    // the command hook's fast path, loaded before the rest of the CLI
    'proxy/hooks/forward-command.mjs',
    'bridge/livekit/token.ts',
    'bridge/websocket/host-header.ts',
  ],
};

function folders(dir: string): string[] {
  const entries = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  return [dir, ...entries.flatMap((entry) => folders(join(dir, entry.name)))];
}

function allowed(fromFolder: string, target: string): boolean {
  if (dirname(target) === fromFolder) return true;
  return (WAYS_IN[fromFolder] ?? []).some((door) =>
    door.endsWith('/') ? target.startsWith(door) : target === door,
  );
}

/** The first import cycle among `files`, as the files round it, or undefined. */
function findCycle(files: string[]): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === 'done') return undefined;
    if (state.get(file) === 'open') return [...path.slice(path.indexOf(file)), file];
    state.set(file, 'open');
    path.push(file);
    for (const specifier of importsOf(file)) {
      if (!specifier.startsWith('.')) continue;
      const cycle = visit(resolveRelative(file, specifier));
      if (cycle) return cycle;
    }
    path.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of files) {
    const cycle = visit(file);
    if (cycle) return cycle.map((each) => relative(root, each));
  }
  return undefined;
}

describe('layering', () => {
  const files = sourceFiles(srcDir);

  it('finds the core sources', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((file) => [relative(root, file), file]))(
    '%s imports only the core and its own packages',
    (_name, file) => {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('.')) {
          expect(
            relative(srcDir, resolveRelative(file, specifier)).startsWith('..'),
            `${specifier} leaves src/`,
          ).toBe(false);
        } else {
          expect(CORE_PACKAGES.has(specifier), `${specifier} is not a core package`).toBe(true);
        }
      }
    },
  );

  it('the provider entry pulls in no JSON Schema compiler (browser-safe, small)', () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('.')) visit(resolveRelative(file, specifier));
        else packages.add(specifier);
      }
    };
    visit(join(srcDir, 'provider.ts'));
    expect([...packages].sort()).toEqual(['zod']);
  });

  it('every folder has a row in the table of ways in', () => {
    const found = POLICED.flatMap((top) => folders(join(root, top))).map((dir) =>
      relative(root, dir),
    );
    expect(found.filter((folder) => !(folder in WAYS_IN))).toEqual([]);
    expect(Object.keys(WAYS_IN).filter((folder) => !found.includes(folder))).toEqual([]);
  });

  const policedFiles = POLICED.flatMap((top) => sourceFiles(join(root, top)));
  it.each(policedFiles.map((file) => [relative(root, file), file]))(
    '%s reaches other folders only through their doors',
    (name, file) => {
      const stray = importsOf(file)
        .filter((specifier) => specifier.startsWith('.'))
        .map((specifier) => relative(root, resolveRelative(file, specifier)))
        .filter((target) => !allowed(dirname(name), target));
      expect(stray).toEqual([]);
    },
  );

  it('no import cycle in src/, bridge/ or proxy/', () => {
    expect(findCycle(policedFiles)).toBeUndefined();
  });

  it('the door check and the cycle finder can fail', () => {
    expect(allowed('proxy/ai-sdk', 'proxy/mcp/call-result.ts')).toBe(false);
    expect(allowed('src/provider', 'src/tool-proxy/registry/registry.ts')).toBe(false);
    expect(allowed('proxy/ai-sdk', 'proxy/kit/index.ts')).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'layering-'));
    writeFileSync(join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = b;\n");
    writeFileSync(join(dir, 'b.ts'), "export { a as b } from './a.js';\n");
    expect(findCycle([join(dir, 'a.ts')])?.map((file) => file.split('/').pop())).toEqual([
      'a.ts',
      'b.ts',
      'a.ts',
    ]);
    rmSync(dir, { recursive: true });
  });

  it('the import scanner sees every kind of import it must police', () => {
    const sample = join(root, 'test', 'support', 'harness.ts');
    expect(importsOf(sample)).toEqual(
      expect.arrayContaining(['../../bridge/memory.js', '../../src/index.js']),
    );
  });
});
