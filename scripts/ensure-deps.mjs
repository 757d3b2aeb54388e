#!/usr/bin/env node
// Installs dependencies when node_modules is missing or older than package-lock.json, so
// `npm start` and `npm test` work on a fresh clone without a separate set-up step.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const marker = 'node_modules/.package-lock.json';
const stale =
  !existsSync(marker) || statSync(marker).mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) {
  console.error('toolproxy: installing dependencies (npm ci)...');
  execSync('npm ci --no-audit --no-fund', { stdio: ['ignore', 'inherit', 'inherit'] });
}
