/** A JSON-RPC error outside any request, as the MCP SDK's own HTTP transport answers. */
import type { ServerResponse } from 'node:http';

export function replyError(
  response: ServerResponse,
  status: number,
  code: number,
  message: string,
): void {
  if (response.headersSent) {
    if (!response.writableEnded) response.end();
    return;
  }
  response
    .writeHead(status, { 'Content-Type': 'application/json' })
    .end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
