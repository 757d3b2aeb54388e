/**
 * The core's door for the agent fronts (`proxy/`) beyond `index.ts`: the wire's content schema and
 * the argument error the framework fronts share. Apart from `seam.ts` because it loads zod.
 */
export { base64Bytes, ContentBlocksSchema } from './protocol/content-blocks.js';
export { invalidArgumentsError } from './tool-proxy/calls/messages.js';
export { formatIssues } from './shared/zod-issues.js';
