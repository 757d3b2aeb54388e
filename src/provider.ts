/**
 * toolproxy/provider: the browser-safe entry for tool providers (pages, robots, Node programs).
 * It pulls in zod and the wire protocol, not the proxy's JSON Schema compiler.
 */
export {
  isToolResultContent,
  toolContent,
  ToolResultContent,
  type ToolResultContentJson,
} from './protocol/rich-result.js';
export type { ChannelHandlers, PeerInfo, ToolChannel } from './shared/channel.js';
export { CancelReason, ErrorCode, isToolProxyError, ToolProxyError } from './shared/errors.js';
export type { Logger } from './shared/logger.js';
export type {
  AudioBlock,
  ContentAnnotations,
  ContentBlock,
  ContentBlockInput,
  ImageBlock,
  ResourceBlock,
  ResourceContents,
  ResourceLinkBlock,
  TextBlock,
} from './protocol/content-blocks.js';
export { defineTool, type ToolContext, type ToolDefinition } from './provider/define-tool.js';
export { type ProviderEvents, ToolProvider, type ToolProviderOptions } from './provider/runtime.js';
