/**
 * `tools/call`: one proxy call per MCP request. The request's abort signal (the client's
 * `notifications/cancelled`, or the connection closing) cancels the proxy call, so the provider is
 * told to stop; provider progress goes back as `notifications/progress` when the client asked for
 * it, and provider logs as `notifications/message` unless below the client's `logging/setLevel`.
 */
import type {
  CallToolRequest,
  CallToolResult,
  LoggingMessageNotification,
  ProgressNotification,
} from '@modelcontextprotocol/sdk/types.js';
import {
  type CallOptions,
  describeUnknown,
  isToolProxyError,
  type Logger,
  type ProgressUpdate,
  type ToolLogEntry,
  type ToolLogLevel,
  type ToolProxy,
} from '../../src/index.js';
import { type PlacementDefaults, placementOf } from './call-placement.js';
import { errorToMcp, resultToMcp } from './call-result.js';

/** The part of the SDK's request handler context a call uses. */
export interface CallContext {
  readonly signal: AbortSignal;
  /** Sends on the request's own stream (its POST's response, over HTTP). */
  readonly sendNotification: (
    notification: ProgressNotification | LoggingMessageNotification,
  ) => Promise<void>;
  /** True when the client's `logging/setLevel` filters out a message of `level`. */
  readonly logIgnored?: ((level: ToolLogLevel) => boolean) | undefined;
  /** The MCP HTTP session (`Mcp-Session-Id`); absent on stdio. */
  readonly sessionId?: string | undefined;
  /** Aborts when the caller is gone (its HTTP response closed): cancels as its reason says. */
  readonly callerGone?: AbortSignal | undefined;
}

export async function callTool(
  proxy: ToolProxy,
  request: CallToolRequest,
  context: CallContext,
  logger: Logger,
  placement: PlacementDefaults = {},
): Promise<CallToolResult> {
  const { name, arguments: args = {}, _meta: meta } = request.params;
  const options: CallOptions = {
    signal:
      context.callerGone === undefined
        ? context.signal
        : AbortSignal.any([context.signal, context.callerGone]),
    ...placementOf(meta, args, context.sessionId, placement),
  };
  const progressToken = meta?.progressToken;
  if (progressToken !== undefined) {
    options.onProgress = (update) => {
      context
        .sendNotification(progressNotification(progressToken, update))
        .catch((error: unknown) => {
          logger.debug({ tool: name, error: describeUnknown(error) }, 'MCP progress not delivered');
        });
    };
  }
  options.onLog = (entry) => {
    if (context.logIgnored?.(entry.level) === true) return;
    context.sendNotification(logNotification(entry)).catch((error: unknown) => {
      logger.debug({ tool: name, error: describeUnknown(error) }, 'MCP log message not delivered');
    });
  };
  try {
    return resultToMcp(await proxy.call(name, args, options));
  } catch (error) {
    if (!isToolProxyError(error)) {
      logger.error(
        { tool: name, error: describeUnknown(error) },
        'MCP tool call failed unexpectedly',
      );
    }
    return errorToMcp(error);
  }
}

function progressNotification(
  progressToken: string | number,
  update: ProgressUpdate,
): ProgressNotification {
  return {
    method: 'notifications/progress',
    params: {
      progressToken,
      progress: update.progress,
      ...(update.total === undefined ? {} : { total: update.total }),
      ...(update.message === undefined ? {} : { message: update.message }),
    },
  };
}

function logNotification(entry: ToolLogEntry): LoggingMessageNotification {
  const { level, data, logger } = entry;
  return {
    method: 'notifications/message',
    params: { level, data, ...(logger === undefined ? {} : { logger }) },
  };
}
