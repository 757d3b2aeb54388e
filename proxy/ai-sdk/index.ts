/** `toolproxy/ai-sdk`: the proxy's tools for the Vercel AI SDK (`generateText`, `streamText`, agents). */
export {
  AiSdkToolError,
  type AiSdkToolsOptions,
  aiSdkTool,
  aiSdkTools,
  toAiSdkError,
  UnexpectedToolError,
} from './tools.js';
export { type ToolModelOutput, toModelOutput } from './model-output.js';
