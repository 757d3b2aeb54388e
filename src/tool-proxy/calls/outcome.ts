/** How a call ended and what identifies it: the calls' own types, which the hook events carry. */

/** How a call ended. */
export type CallOutcome =
  | 'result'
  | 'remote-error'
  | 'invalid-result'
  | 'timeout'
  | 'cancelled'
  | 'provider-gone'
  | 'tool-unregistered'
  | 'send-failed';

export interface CallInfo {
  readonly callId: string;
  readonly tool: string;
  readonly provider: string;
  readonly sessionKey: string | undefined;
}
