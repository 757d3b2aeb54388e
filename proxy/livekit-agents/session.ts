/**
 * The end of an @livekit/agents session as the proxy's `session:end` (`proxy.lifecycle`). When an
 * `AgentSession` closes (job shutdown, participant gone, `session.close()`, an unrecoverable
 * error), the calls of its session key still pending are cancelled at once (reason
 * `session-ended`) and their providers told to stop (PROTOCOL.md section 7's session rule).
 *
 * The framework itself aborts the tools it runs before `close` fires (`drain()` force-aborts
 * CANCELLABLE tools): those calls end as `caller-aborted`. `session:end` covers the rest of the
 * session: calls made outside the tool executor (the agent's own code, another front with the
 * same key), and anyone subscribed to `proxy.hooks`.
 */
import { voice } from '@livekit/agents';
import type { ToolProxy } from '../../src/index.js';

/** The part of `voice.AgentSession` this needs (any `AgentSession<UserData>` fits). */
export type ClosingSession = Pick<voice.AgentSession, 'on' | 'off'>;

/** Applies `session:end` for `sessionKey` each time `session` closes; returns the unbinder. */
export function bindAgentSession(
  session: ClosingSession,
  proxy: ToolProxy,
  sessionKey: string,
): () => void {
  if (sessionKey === '') throw new TypeError('bindAgentSession: the session key must not be empty');
  const onClose = (event: voice.CloseEvent): void => {
    proxy.lifecycle('session:end', {
      session_key: sessionKey,
      reason: `the agent session closed (${event.reason})`,
    });
  };
  session.on(voice.AgentSessionEventTypes.Close, onClose);
  let bound = true;
  return () => {
    if (!bound) return;
    bound = false;
    session.off(voice.AgentSessionEventTypes.Close, onClose);
  };
}
