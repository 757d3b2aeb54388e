/**
 * What the proxy does when its registry changes: tells watchers on the hook bus, re-acks a renamed
 * tool to its provider, and fails the calls of a tool its provider unregistered.
 */
import type { CallRunner } from './calls/call-runner.js';
import { toolUnregisteredError } from './calls/messages.js';
import type { HookBus } from '../shared/bus.js';
import type { HookEvents } from './hooks/events.js';
import type { ProviderLink } from './providers/provider-link.js';
import { toolSummary } from './registry/exposed-tool.js';
import type { RegistryChange } from './registry/registry.js';

export interface RegistryChangeDeps {
  readonly link: ProviderLink;
  readonly calls: CallRunner;
  readonly hooks: HookBus<HookEvents>;
}

export function announceRegistryChange(change: RegistryChange, deps: RegistryChangeDeps): void {
  const tool = toolSummary(change.tool);
  if (change.kind === 'renamed') {
    // The provider shows its exposed name (`exposed_name` on its ack): a fresh ack gives the new one.
    const { provider, name } = change.tool;
    if (deps.link.isPresent(provider))
      deps.link.reply(provider, { type: 'agent:tool-registered', name, success: true });
    deps.hooks.emit('tool:renamed', { tool, previousName: change.previousName });
    return;
  }
  if (change.kind !== 'unregistered') {
    deps.hooks.emit('tool:registered', { tool, updated: change.kind === 'updated' });
    return;
  }
  if (change.cause === 'unregistered') {
    const { provider, name, exposedName } = change.tool;
    const calls = deps.calls.table
      .forProvider(provider)
      .filter((call) => call.spec.tool.name === name);
    if (calls.length > 0)
      deps.calls.life.settleAll(calls, 'tool-unregistered', toolUnregisteredError(exposedName));
  }
  deps.hooks.emit('tool:unregistered', { tool, cause: change.cause });
}
