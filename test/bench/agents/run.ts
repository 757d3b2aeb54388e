/**
 * `npm run bench:agents [-- --rounds N] [-- --only claude-esc,hermes-invoke-hook]`: each real
 * agent of the peers cache interrupted mid-call, N rounds (default 20), prints the table, writes
 * test-artifacts/bench-agents-results.json (every round's three moments). Timings are reported,
 * never enforced: the exit code is 0 unless a case itself fails.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runAgentsBench } from './bench.js';
import { formatAgentsReport } from './report.js';
import { AGENT_CASE_IDS, type AgentCaseId } from './rounds.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    only: { type: 'string' },
    out: { type: 'string', default: resolve(root, 'test-artifacts/bench-agents-results.json') },
  },
});

const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
const only = values.only?.split(',').map((id) => id.trim());
const unknown = only?.filter((id) => !(AGENT_CASE_IDS as readonly string[]).includes(id)) ?? [];
if (unknown.length > 0)
  throw new Error(
    `--only: unknown case ${unknown.join(', ')} (cases: ${AGENT_CASE_IDS.join(', ')})`,
  );

const report = await runAgentsBench({
  rounds,
  ...(only === undefined ? {} : { only: only as AgentCaseId[] }),
  log: (message) => console.error(message),
});
console.log(formatAgentsReport(report));
await mkdir(dirname(values.out), { recursive: true });
await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwrote ${values.out} (${report.meta.durationS} s)`);
// Sockets of the agents' MCP sessions may linger; nothing is left to do.
process.exit(0);
