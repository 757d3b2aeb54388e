/** The in-memory bridge as a contract world. */
import { type InMemoryChannel, InMemoryRoom } from '../../bridge/memory.js';
import { flush } from '../support/util.js';
import type { BridgeWorld } from './world.js';

export function memoryWorld(): BridgeWorld {
  const room = new InMemoryRoom();
  const members = new Map<string, InMemoryChannel>();
  const join = (identity: string, isAgent = false) => {
    const channel = room.join(identity, { isAgent });
    members.set(identity, channel);
    return channel;
  };
  return {
    name: 'in-memory',
    proxyChannel: () => join('agent', true),
    proxyIdentity: () => 'agent',
    providerChannel: (identity) => Promise.resolve(join(identity)),
    strangerChannel: (identity) => Promise.resolve(join(identity)),
    maxFrameBytes: 1_048_576,
    dropProvider: async (identity) => {
      members.get(identity)?.drop();
      await flush();
    },
    resumeProxy: async () => {
      members.get('agent')?.resume();
      await flush();
    },
    settle: async () => {
      for (let i = 0; i < 5; i++) await flush();
    },
    teardown: async () => {
      for (const member of members.values()) await member.close();
    },
  };
}
