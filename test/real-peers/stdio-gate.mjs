#!/usr/bin/env node
// `node stdio-gate.mjs COMMAND ARGS...`: runs COMMAND with this process's stdout and stderr, and
// passes this process's stdin on to it, unchanged, only after SIGUSR1. An MCP client that launches
// a stdio server sends initialize and tools/list within milliseconds; `toolproxy serve --mcp stdio`
// answers them before any provider could have connected to its bridge. Put in front of it, the
// gate holds the client's bytes until the test has attached its provider. Prints its pid on stderr.
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  process.stderr.write('usage: stdio-gate.mjs COMMAND [ARGS...]\n');
  process.exit(2);
}

const child = spawn(command, args, { stdio: ['pipe', 'inherit', 'inherit'] });
// Read at once and held, so the client closing its end before the release is seen too.
const held = [];
let released = false;
process.stdin.on('data', (chunk) => (released ? child.stdin.write(chunk) : held.push(chunk)));
process.stdin.once('end', () => {
  if (released) child.stdin.end();
  else child.kill('SIGTERM'); // the client went away before the server was ever its
});
process.once('SIGUSR1', () => {
  released = true;
  for (const chunk of held.splice(0)) child.stdin.write(chunk);
  if (process.stdin.readableEnded) child.stdin.end();
});
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.once(signal, () => child.kill(signal));
}
child.stdin.on('error', () => {}); // the server may exit with client bytes still unread
child.once('error', (error) => {
  process.stderr.write(`stdio-gate: ${command} did not start: ${error.message}\n`);
  process.exit(1);
});
child.once('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
// Last: SIGUSR1's handler is in place before anyone can learn whom to send it to.
process.stderr.write(`stdio-gate pid ${process.pid}\n`);
