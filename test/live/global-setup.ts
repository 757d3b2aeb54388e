/**
 * The live suite's one LiveKit server, started before its tests and stopped after them; the tests
 * get its URL and keys with `inject('livekit')`.
 */
import type { TestProject } from 'vitest/node';
import { findMcpPeer } from '../support/mcp-peers.js';
import { startLiveKitServer } from './livekit-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    livekit: { url: string; apiKey: string; apiSecret: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const lookup = findMcpPeer('livekit-server');
  if (!lookup.found) throw new Error(`the live suite needs livekit-server: ${lookup.why}`);
  const server = await startLiveKitServer(lookup.peer.path);
  const { url, apiKey, apiSecret } = server;
  project.provide('livekit', { url, apiKey, apiSecret });
  return () => server.stop();
}
