/** The registry's records, outcomes and policy: the shapes its users see, apart from its bookkeeping. */
import type { PeerInfo } from '../../shared/channel.js';
import type { ToolAnnotations } from '../../protocol/frames.js';
import type { CompiledSchema } from './schema-validator.js';

export interface RegisteredTool {
  /** The name agents see and call. */
  readonly exposedName: string;
  /** The name the provider registered (and receives in `agent:tool-call`). */
  readonly name: string;
  /** The provider's identity, as its transport authenticated it. */
  readonly provider: string;
  readonly description: string;
  readonly inputSchema: Readonly<Record<string, unknown>>;
  readonly annotations: ToolAnnotations | undefined;
  /** The provider's own deadline for this tool (`metadata.max_execution_time_ms`), if any. */
  readonly timeoutMs: number | undefined;
  readonly validator: CompiledSchema;
}

/**
 * Reasons on the wire (`agent:tool-registered.reason`). `name-invalid`, `schema-invalid` and
 * `register-failed` are hermes-livekit v0.3's; the rest are new.
 */
export type RegistrationFailure =
  | 'name-invalid'
  | 'schema-invalid'
  | 'description-invalid'
  | 'metadata-invalid'
  | 'too-many-tools'
  | 'not-allowed'
  | 'name-taken'
  | 'registry-collision'
  | 'rate-limited'
  | 'register-failed';

export type RegisterOutcome =
  | { ok: true; tool: RegisteredTool; change: 'registered' | 'updated' | 'unchanged' }
  | { ok: false; reason: RegistrationFailure; detail: string };

export type UnregisterOutcome =
  { ok: true; tool: RegisteredTool } | { ok: false; reason: 'not-found' | 'not-owned-by-you' };

export type RegistryChange =
  | { kind: 'registered' | 'updated'; tool: RegisteredTool }
  | { kind: 'unregistered'; tool: RegisteredTool; cause: 'unregistered' | 'provider-left' }
  /** A suffixed tool took back its plain name when that was freed; `tool` has the new name. */
  | { kind: 'renamed'; tool: RegisteredTool; previousName: string };

export interface RegistrationRequest {
  readonly provider: string;
  /** The provider as its transport describes it (identity, agent flag, attributes). */
  readonly peer: PeerInfo;
  readonly name: string;
  readonly description: string;
  readonly annotations: ToolAnnotations | undefined;
}

/** Decides which provider may register which tool. Return false (or a reason) to refuse. */
export type RegistrationPolicy = (
  request: RegistrationRequest,
) => boolean | { allow: false; reason?: string };

/** The default: any provider the transport authenticated may register any tool. */
export const allowAllProviders: RegistrationPolicy = () => true;
