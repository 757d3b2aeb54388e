/**
 * Shared by the agent-framework fronts: the model's arguments, which the framework has parsed as
 * JSON but not checked, as the object a proxy call takes.
 */
import { invalidArgumentsError } from '../../src/front-seam.js';
import { describeUnknown } from '../../src/seam.js';

export function argumentsOf(tool: string, input: unknown): Record<string, unknown> {
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    return Object.fromEntries(Object.entries(input));
  }
  throw invalidArgumentsError(tool, [`expected a JSON object, got ${describeUnknown(input)}`]);
}
