#!/usr/bin/env node
// hermes-agent from PyPI, for the real-peer test of the hermes plugin (test/real-peers/
// hermes-agent.test.ts): a venv in the peers cache outside the repository, recorded in the peers
// manifest. 0.19.0 is the newest release PyPI has; its `mcp` extra (the MCP SDK at the version
// hermes pins) is what gives hermes its MCP client. Prints one line and always exits 0: the test
// decides whether a missing hermes is skipped or fails (TOOLPROXY_REQUIRE_REAL_PEERS=1).
import { ensureVenvPeer } from './python-venv.mjs';

ensureVenvPeer({
  id: 'hermes-agent',
  packages: { 'hermes-agent': '0.19.0', mcp: '1.26.0' },
  requirements: ['hermes-agent[mcp]==0.19.0'],
  // The plugin loader and the MCP client the test drives.
  importCheck: 'import hermes_cli.plugins, tools.mcp_tool, mcp',
  timeoutMs: 15 * 60_000,
});
