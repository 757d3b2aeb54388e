#!/usr/bin/env node
// The browser end-to-end tests drive Debian's Chromium (playwright-core cannot download a browser
// here). Installs it with apt-get when it is missing and we are root; otherwise says what to do.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    process.stderr.write('toolproxy: installing chromium for the browser tests (apt-get)...\n');
    const quiet = {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    };
    execSync('apt-get update -qq', quiet);
    execSync('apt-get install -y -qq chromium', quiet);
  } else {
    process.stderr.write(
      `toolproxy: ${CHROMIUM} not found; install Debian's chromium (or set CHROMIUM_PATH) for the browser tests\n`,
    );
  }
}
