/**
 * A tool's input schema as the object JSON Schema a framework takes. Each framework names that
 * type its own way (`JSONSchema7`, `FunctionTool['parameters']`), so the front says which.
 */
import type { ExposedTool } from '../../src/index.js';

/**
 * A copy of the provider's schema (the registry has checked it is a JSON Schema of an object), so
 * a framework that changes what it is given cannot change the registry's.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the front names its framework's schema type; the check below is what every one of them takes
export function objectSchema<Schema extends object>(tool: ExposedTool): Schema {
  const schema = structuredClone(tool.inputSchema);
  if (!isObjectSchema<Schema>(schema)) {
    throw new TypeError(`Tool "${tool.name}": the input schema is not a JSON Schema of an object`);
  }
  return schema;
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- see objectSchema
function isObjectSchema<Schema extends object>(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && 'type' in value && value.type === 'object';
}
