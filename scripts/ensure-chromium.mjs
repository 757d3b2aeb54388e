#!/usr/bin/env node
// Debian packages the tests drive: Chromium for the browser tests (playwright-core cannot download
// a browser here), tmux for Claude Code's interactive UI, curl for docker-agent's hook commands.
// Installs the missing ones with apt-get when we are root; otherwise says what to do.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const onPath = (command) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const wanted = [
  ['chromium', existsSync(CHROMIUM)],
  ['tmux', onPath('tmux')],
  ['curl', onPath('curl')],
]
  .filter(([, present]) => !present)
  .map(([name]) => name);

if (wanted.length > 0) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    process.stderr.write(`toolproxy: installing ${wanted.join(', ')} for the tests (apt-get)...\n`);
    const quiet = {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    };
    execSync('apt-get update -qq', quiet);
    execSync(`apt-get install -y -qq ${wanted.join(' ')}`, quiet);
  } else {
    process.stderr.write(
      `toolproxy: ${wanted.join(', ')} not found; install them with Debian's apt-get (or set CHROMIUM_PATH) for the tests that drive them\n`,
    );
  }
}
