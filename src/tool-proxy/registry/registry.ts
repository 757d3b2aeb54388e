/**
 * Which provider offers which tool, under which exposed name. Pure bookkeeping: it validates and
 * records registrations and reports changes; it sends nothing and knows no calls.
 */
import type { PeerInfo } from '../../shared/channel.js';
import { describeUnknown } from '../../shared/errors.js';
import type { ToolRegistration } from '../../protocol/frames.js';
import {
  allowAllProviders,
  type RegisteredTool,
  type RegisterOutcome,
  type RegistrationFailure,
  type RegistrationPolicy,
  type RegistryChange,
  type UnregisterOutcome,
} from './registry-types.js';
import { EXPOSED_TOOL_NAME, PROVIDER_TOOL_NAME, suffixedName } from '../../protocol/tool-names.js';
import {
  type CompiledSchema,
  SchemaCompiler,
  SchemaError,
  type SchemaLimits,
} from './schema-validator.js';

export {
  allowAllProviders,
  type RegisteredTool,
  type RegisterOutcome,
  type RegistrationFailure,
  type RegistrationPolicy,
  type RegistrationRequest,
  type RegistryChange,
  type UnregisterOutcome,
} from './registry-types.js';

/** Tools one provider may register unless `maxToolsPerProvider` says otherwise. */
export const DEFAULT_MAX_TOOLS_PER_PROVIDER = 64;

export interface RegistryOptions extends Partial<SchemaLimits> {
  maxToolsPerProvider?: number;
  maxDescriptionChars?: number;
  /** Two providers, one name: `suffix` (default) exposes the later one as `name_<hash>`; `reject` refuses it. */
  onNameCollision?: 'suffix' | 'reject';
  policy?: RegistrationPolicy;
  onChange?: (change: RegistryChange) => void;
}

interface Entry {
  tool: RegisteredTool;
  fingerprint: string;
  /** Order of first registration (an update keeps it): the oldest suffixed holder reclaims first. */
  seq: number;
}

export class ToolRegistry {
  readonly #byExposed = new Map<string, Entry>();
  readonly #byProvider = new Map<string, Map<string, Entry>>();
  readonly #compiler: SchemaCompiler;
  readonly #maxTools: number;
  readonly #maxDescription: number;
  readonly #collision: 'suffix' | 'reject';
  readonly #policy: RegistrationPolicy;
  readonly #onChange: (change: RegistryChange) => void;
  #sorted: RegisteredTool[] | undefined;
  #nextSeq = 0;

  constructor(options: RegistryOptions = {}) {
    this.#compiler = new SchemaCompiler(options);
    this.#maxTools = options.maxToolsPerProvider ?? DEFAULT_MAX_TOOLS_PER_PROVIDER;
    this.#maxDescription = options.maxDescriptionChars ?? 4_096;
    this.#collision = options.onNameCollision ?? 'suffix';
    this.#policy = options.policy ?? allowAllProviders;
    this.#onChange = options.onChange ?? (() => {});
  }

  /** Registers (or updates) a tool of `from`, which is a transport-authenticated peer or its identity. */
  register(from: string | PeerInfo, registration: ToolRegistration): RegisterOutcome {
    const peer = typeof from === 'string' ? { identity: from } : from;
    const provider = peer.identity;
    const { name, description, input_schema: inputSchema, metadata } = registration;
    const previous = this.#byProvider.get(provider)?.get(name);
    const refusal = this.#refusal(peer, registration, previous === undefined);
    if (refusal !== undefined) return refusal;
    const fingerprint = JSON.stringify([description, inputSchema, metadata ?? null]);
    if (previous?.fingerprint === fingerprint)
      return { ok: true, tool: previous.tool, change: 'unchanged' };

    const exposedName = previous?.tool.exposedName ?? this.#pickExposedName(name, provider);
    if (typeof exposedName !== 'string') return exposedName;
    let validator: CompiledSchema;
    try {
      validator = this.#compiler.compile(inputSchema);
    } catch (error) {
      const detail =
        error instanceof SchemaError ? error.message : `input_schema rejected: ${String(error)}`;
      return fail('schema-invalid', detail);
    }
    const tool: RegisteredTool = {
      exposedName,
      name,
      provider,
      description,
      inputSchema,
      annotations: metadata?.annotations,
      timeoutMs: metadata?.max_execution_time_ms,
      validator,
    };
    this.#store(provider, { tool, fingerprint, seq: previous?.seq ?? this.#nextSeq++ });
    this.#changed({ kind: previous === undefined ? 'registered' : 'updated', tool });
    return { ok: true, tool, change: previous === undefined ? 'registered' : 'updated' };
  }

  unregister(provider: string, name: string): UnregisterOutcome {
    const entry = this.#byProvider.get(provider)?.get(name);
    if (entry === undefined) {
      const ownedElsewhere = [...this.#byProvider.values()].some((tools) => tools.has(name));
      return { ok: false, reason: ownedElsewhere ? 'not-owned-by-you' : 'not-found' };
    }
    this.#remove(entry.tool, 'unregistered');
    return { ok: true, tool: entry.tool };
  }

  /** Drops every tool of a provider that left; returns them. */
  removeProvider(provider: string): RegisteredTool[] {
    const own = this.#byProvider.get(provider);
    if (own === undefined) return [];
    const tools = [...own.values()].map((entry) => entry.tool);
    for (const tool of tools) this.#remove(tool, 'provider-left');
    return tools;
  }

  /** Names this provider registered, for a `replace: true` batch. */
  namesOf(provider: string): string[] {
    return [...(this.#byProvider.get(provider)?.keys() ?? [])];
  }

  get(exposedName: string): RegisteredTool | undefined {
    return this.#byExposed.get(exposedName)?.tool;
  }

  /** Every tool, in a stable order (by exposed name). */
  list(): readonly RegisteredTool[] {
    this.#sorted ??= [...this.#byExposed.values()]
      .map((entry) => entry.tool)
      .sort((a, b) => (a.exposedName < b.exposedName ? -1 : a.exposedName > b.exposedName ? 1 : 0));
    return this.#sorted;
  }

  get size(): number {
    return this.#byExposed.size;
  }

  /** Why this registration cannot be accepted, checked in the documented order; undefined if it can. */
  #refusal(
    peer: PeerInfo,
    registration: ToolRegistration,
    isNew: boolean,
  ): RegisterOutcome | undefined {
    const { name, description, input_schema: inputSchema, metadata } = registration;
    const provider = peer.identity;
    if (!PROVIDER_TOOL_NAME.test(name)) {
      return fail('name-invalid', `"${name.slice(0, 80)}" must match ${PROVIDER_TOOL_NAME.source}`);
    }
    if (description.length > this.#maxDescription) {
      const detail = `description is ${description.length} chars; the limit is ${this.#maxDescription}`;
      return fail('description-invalid', detail);
    }
    if (isNew && (this.#byProvider.get(provider)?.size ?? 0) >= this.#maxTools) {
      return fail('too-many-tools', `a provider may register at most ${this.#maxTools} tools`);
    }
    if (peer.mayProvide === false) {
      return fail(
        'not-allowed',
        `participant "${provider}" is not allowed to offer tools in this room`,
      );
    }
    let verdict: ReturnType<RegistrationPolicy>;
    try {
      verdict = this.#policy({
        provider,
        peer,
        name,
        description,
        annotations: metadata?.annotations,
      });
    } catch (error) {
      return fail('not-allowed', `the registration policy failed: ${describeUnknown(error)}`);
    }
    if (verdict !== true) {
      const why = typeof verdict === 'object' ? verdict.reason : undefined;
      return fail('not-allowed', why ?? `provider "${provider}" may not register "${name}"`);
    }
    try {
      this.#compiler.checkShape(inputSchema); // before JSON.stringify in register(): bounds the nesting
    } catch (error) {
      return fail('schema-invalid', describeUnknown(error));
    }
    return undefined;
  }

  #pickExposedName(name: string, provider: string): string | RegisterOutcome {
    if (!this.#byExposed.has(name) && EXPOSED_TOOL_NAME.test(name)) return name;
    if (this.#collision === 'reject') {
      return fail('name-taken', `another provider already offers "${name}"`);
    }
    const alternative = suffixedName(name, provider);
    if (this.#byExposed.has(alternative)) {
      return fail(
        'registry-collision',
        `"${name}" and its alternative "${alternative}" are both taken`,
      );
    }
    return alternative;
  }

  #store(provider: string, entry: Entry): void {
    let own = this.#byProvider.get(provider);
    if (own === undefined) {
      own = new Map();
      this.#byProvider.set(provider, own);
    }
    own.set(entry.tool.name, entry);
    this.#byExposed.set(entry.tool.exposedName, entry);
    this.#sorted = undefined;
  }

  #remove(removed: RegisteredTool, cause: 'unregistered' | 'provider-left'): void {
    const own = this.#byProvider.get(removed.provider);
    const tool = own?.get(removed.name)?.tool ?? removed; // as stored now (it may have been renamed)
    own?.delete(tool.name);
    if (own?.size === 0) this.#byProvider.delete(tool.provider);
    this.#byExposed.delete(tool.exposedName);
    this.#sorted = undefined;
    this.#changed({ kind: 'unregistered', tool, cause });
    if (tool.exposedName === tool.name) this.#reclaim(tool.name);
  }

  /**
   * A plain name just freed goes back to the oldest provider exposed under its suffix, so a
   * squatter that took the name while its owner restarted does not keep the owner off it.
   */
  #reclaim(name: string): void {
    let oldest: Entry | undefined;
    for (const tools of this.#byProvider.values()) {
      const entry = tools.get(name);
      if (entry !== undefined && entry.tool.exposedName !== name) {
        if (oldest === undefined || entry.seq < oldest.seq) oldest = entry;
      }
    }
    if (oldest === undefined) return;
    const previousName = oldest.tool.exposedName;
    const tool: RegisteredTool = { ...oldest.tool, exposedName: name };
    this.#byExposed.delete(previousName);
    this.#store(tool.provider, { ...oldest, tool });
    this.#changed({ kind: 'renamed', tool, previousName });
  }

  #changed(change: RegistryChange): void {
    this.#onChange(change);
  }
}

function fail(reason: RegistrationFailure, detail: string): RegisterOutcome {
  return { ok: false, reason, detail };
}
