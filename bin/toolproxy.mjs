#!/usr/bin/env node
// The `toolproxy` command. Runs the built CLI when dist/ exists, else the TypeScript sources via tsx.
import { existsSync } from 'node:fs';

const built = new URL('../dist/proxy/cli/main.js', import.meta.url);
let cli;
if (existsSync(built)) {
  cli = await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../proxy/cli/main.ts', import.meta.url).href);
}
process.exitCode = await cli.run(process.argv.slice(2));
