/**
 * The core (src/) knows no transport and no agent framework, and the provider entry stays
 * browser-safe. Read from the sources, so the rule cannot be switched off in a config file alone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');
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
  const text = readFileSync(file, 'utf8');
  const found = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\sfrom\s+['"]([^'"]+)['"]/g),
  ];
  const dynamic = [...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)];
  return [...found, ...dynamic].map((match) => match[1] as string);
}

function resolveRelative(from: string, specifier: string): string {
  return resolve(dirname(from), specifier).replace(/\.js$/, '.ts');
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

  it('the import scanner sees every kind of import it must police', () => {
    const sample = join(root, 'test', 'support', 'harness.ts');
    expect(importsOf(sample)).toEqual(
      expect.arrayContaining(['../../bridge/memory.js', '../../src/index.js']),
    );
  });
});
