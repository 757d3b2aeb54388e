#!/usr/bin/env node
// The LiveKit Python SDK at the versions hermes-livekit v0.3 pins, for the live suite's v0.3 client
// (test/live/v03_client.py): a venv in the peers cache outside the repository, recorded in the
// peers manifest (test/support/mcp-peers.ts reads it). Prints one line and always exits 0: the
// live test decides whether a missing SDK is skipped or fails (TOOLPROXY_REQUIRE_REAL_PEERS=1).
import { ensureVenvPeer } from './python-venv.mjs';

/** hermes-livekit v0.3's pins (its pyproject.toml). */
const PACKAGES = { livekit: '1.1.7', 'livekit-api': '1.1.0' };

ensureVenvPeer({
  id: 'python-livekit',
  packages: PACKAGES,
  requirements: Object.entries(PACKAGES).map(([name, version]) => `${name}==${version}`),
  // Loads the native FFI library too: a wheel without one for this platform fails here.
  importCheck: 'from livekit import api, rtc',
  timeoutMs: 10 * 60_000,
});
