/**
 * A provider that closes on purpose withdraws its tools first: an empty `replace` batch to each
 * proxy ends its calls (TOOL_UNREGISTERED) at once, where a LiveKit room reports the leave up to
 * 3 s later. Best effort, bounded in time: the proxy learns of the leave from the transport anyway.
 */
import type { ToolChannel } from '../shared/channel.js';
import { encodeFrame } from '../protocol/codec.js';
import type { Timers } from '../shared/timers.js';

/** How long `close()` waits for the withdrawals to be handed over. */
const WITHDRAW_BOUND_MS = 1_000;

export async function withdrawTools(
  channel: ToolChannel,
  proxies: Iterable<string>,
  timers: Timers,
): Promise<void> {
  const frame = encodeFrame({ type: 'client:tool-register-batch', tools: [], replace: true });
  const sent = [...proxies].map(async (proxy) => {
    try {
      await channel.send(proxy, frame);
    } catch {
      // Best effort (above).
    }
  });
  let timer: unknown;
  const bound = new Promise<void>((resolve) => {
    timer = timers.setTimeout(resolve, WITHDRAW_BOUND_MS);
  });
  await Promise.race([Promise.all(sent), bound]);
  timers.clearTimeout(timer);
}
