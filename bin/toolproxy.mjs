#!/usr/bin/env node
// The `toolproxy` command. `hook` runs straight from plain JavaScript on node: built-ins only (an
// agent waits on it, so it loads nothing else); every other command runs the built CLI when dist/
// exists, else the TypeScript sources via tsx.
const [command, ...rest] = process.argv.slice(2);
if (command === 'hook') {
  const { runHookCommand } = await import('../proxy/hooks/forward-command.mjs');
  process.exitCode = await runHookCommand(rest, process);
} else {
  const { existsSync } = await import('node:fs');
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
}
