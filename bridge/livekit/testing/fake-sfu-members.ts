/** A participant as the fake server tracks it, and who a packet in its room goes to. */
import type { FakeParticipantInfo, FakeServerEvent, FakeSignalSink } from './fake-protocol.js';

export interface Member {
  readonly info: FakeParticipantInfo;
  readonly sink: FakeSignalSink;
  /** False once nothing more may be delivered. */
  active: boolean;
  interrupted: boolean;
  /** Membership updates held back while interrupted, delivered after Reconnected. */
  held: FakeServerEvent[];
  /** With `dataBeforeJoin`: members not yet told this one joined. */
  unannounced: Set<Member>;
  /** Its process died: nothing from or to it; the others hear of it when ICE gives up. */
  crashed: boolean;
  /** Resumed without data (see `resume`): signalling works, packets are lost both ways. */
  silent: boolean;
}

/** A member just joined: active, connected, and (with `dataBeforeJoin`) not yet announced. */
export function newMember(
  info: FakeParticipantInfo,
  sink: FakeSignalSink,
  unannounced: Iterable<Member>,
): Member {
  return {
    info,
    sink,
    active: true,
    interrupted: false,
    held: [],
    unannounced: new Set(unannounced),
    crashed: false,
    silent: false,
  };
}

/** Room members a packet goes to: the listed identities, or everyone; never the sender. */
export function targets(
  members: ReadonlyMap<string, Member>,
  destinationIdentities: readonly string[],
  sender?: Member,
): Member[] {
  const all =
    destinationIdentities.length === 0
      ? [...members.values()]
      : [...new Set(destinationIdentities)].flatMap((id) => members.get(id) ?? []);
  return all.filter((m) => m !== sender);
}
