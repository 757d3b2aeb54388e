/**
 * Reads a POST's JSON body for the MCP endpoint, within the MCP SDK's own size limit and answering
 * as its transport would (413, 400 parse error): the endpoint must see which requests a POST
 * carries (an `initialize`, which `tools/call` ids) before it hands the parsed body to the transport.
 * A body nested deeper than `DEFAULT_MAX_JSON_DEPTH` is refused unparsed, as a parse error: its
 * parse time grows with its nesting, not its size (PROTOCOL.md section 13).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  DEFAULT_MAX_REQUEST_BODY_SIZE,
  requestBodyTooLargeMessage,
} from '@modelcontextprotocol/sdk/server/requestBody.js';
import { DEFAULT_MAX_JSON_DEPTH, scanJson, tooDeepMessage } from '../../src/index.js';
import { replyError } from './http-reply.js';

export type BodyRead =
  | { readonly ok: true; readonly body: unknown }
  /** Already answered (413, 400), or the client went away while sending it. */
  | { readonly ok: false };

const NOT_READ: BodyRead = { ok: false };

export function readJsonBody(
  request: IncomingMessage,
  response: ServerResponse,
  maxBytes: number = DEFAULT_MAX_REQUEST_BODY_SIZE,
): Promise<BodyRead> {
  const tooLarge = (): BodyRead => {
    // Close the connection: the rest of the body is not worth reading.
    response.setHeader('Connection', 'close');
    replyError(response, 413, -32000, requestBodyTooLargeMessage(maxBytes));
    return NOT_READ;
  };
  if (Number(request.headers['content-length']) > maxBytes) return Promise.resolve(tooLarge());
  // Already read by someone else, or the client is gone: no body will come.
  if (request.destroyed) return Promise.resolve(NOT_READ);
  if (request.readableEnded) {
    replyError(response, 400, -32700, 'Parse error: Invalid JSON');
    return Promise.resolve(NOT_READ);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const done = (read: BodyRead): void => {
      request.off('data', onData).off('end', onEnd).off('error', onGone).off('close', onGone);
      resolve(read);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.byteLength;
      if (received > maxBytes) done(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      const text = Buffer.concat(chunks, received).toString('utf8');
      if (scanJson(text, DEFAULT_MAX_JSON_DEPTH).tooDeep) {
        const why = tooDeepMessage('the request body', DEFAULT_MAX_JSON_DEPTH);
        replyError(response, 400, -32700, `Parse error: ${why}`);
        done(NOT_READ);
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        replyError(response, 400, -32700, 'Parse error: Invalid JSON');
        done(NOT_READ);
        return;
      }
      done({ ok: true, body });
    };
    // 'close' before 'end': the client went away mid-body; there is no one to answer.
    const onGone = (): void => done(NOT_READ);
    request.on('data', onData).once('end', onEnd).once('error', onGone).once('close', onGone);
  });
}
