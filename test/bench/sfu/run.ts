/**
 * `unshare -rn test/live/netns.sh node --expose-gc --import ./test/bench/register.mjs
 * test/bench/sfu/run.ts [--quick] [--out FILE]`: starts the real livekit-server inside the
 * loopback-only namespace, runs the SFU bench, prints the table and writes
 * test-artifacts/bench-sfu-results.json. Timings are reported, never enforced.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// rtc-node decides at load whether to log at debug level to stdout: load it as production.
process.env.NODE_ENV = 'production';
const { findMcpPeer } = await import('../../support/mcp-peers.js');
const { startLiveKitServer } = await import('../../live/livekit-server.js');
const { FULL, QUICK, runSfuBench } = await import('./bench.js');
const { formatReport } = await import('./report.js');

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: resolve(root, 'test-artifacts/bench-sfu-results.json') },
  },
});

const lookup = findMcpPeer('livekit-server');
if (!lookup.found) throw new Error(`bench: needs livekit-server: ${lookup.why}`);

// The MCP SDK's client passes one AbortSignal to every fetch; undici's listeners on it make Node
// warn once per run of calls. Counted, not printed.
let listenerWarnings = 0;
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'MaxListenersExceededWarning') listenerWarnings++;
  else console.warn(`${warning.name}: ${warning.message}`);
});

const server = await startLiveKitServer(lookup.peer.path);
try {
  const config = values.quick ? QUICK : FULL;
  const report = await runSfuBench(server, config, (line) => console.error(line), {
    livekitServer: `${lookup.peer.package} ${lookup.peer.version}`,
  });
  console.log(formatReport(report));
  if (listenerWarnings > 0) console.log(`note: Node warned ${listenerWarnings}× (MaxListeners)`);
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${values.out} (${report.meta.durationS} s)`);
} finally {
  await server.stop();
}
