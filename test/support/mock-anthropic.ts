/**
 * A model server of our own on loopback that speaks Anthropic's Messages API (`POST /v1/messages`),
 * for driving the real Claude Code CLI through a scripted turn without any model. Each request is
 * answered by `reply` with a tool use or with text, as server-sent events (message_start,
 * content_block_start / delta / stop, message_delta, message_stop) when the client streams, else
 * as one JSON message. `POST /v1/messages/count_tokens` gets a token count; any other path a 404
 * in the API's error shape. Every request is recorded (path, parsed body, session header, arrival
 * time), so a test can check what the agent sent back, e.g. the tool result in the request after
 * the call, and that it asked nothing else.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { listenOnLoopback, readBody } from './mock-http.js';

/** Largest request body accepted: Claude Code's system prompt, tools and history are ~100 KB. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

const BlockSchema = z.looseObject({ type: z.string() });
const MessageSchema = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(BlockSchema)]),
});
const MessagesRequestSchema = z.looseObject({
  model: z.string(),
  messages: z.array(MessageSchema),
  stream: z.boolean().optional(),
  tools: z.array(z.looseObject({ name: z.string() })).optional(),
});

export type ContentBlock = z.infer<typeof BlockSchema>;
export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;

export interface RecordedRequest {
  readonly method: string;
  /** The path without the query (Claude Code adds `?beta=true`). */
  readonly path: string;
  /** Claude Code's `x-claude-code-session-id` header, when sent. */
  readonly session: string | undefined;
  /** The parsed body of a `POST /v1/messages`; undefined for anything else. */
  readonly body: MessagesRequest | undefined;
  /** `performance.now()` when the body had arrived. */
  readonly at: number;
}

export type ScriptedReply =
  | { readonly toolUse: { readonly name: string; readonly input: Record<string, unknown> } }
  | { readonly text: string };

export interface MockAnthropicOptions {
  /** The answer to one Messages request. */
  reply(request: MessagesRequest, recorded: RecordedRequest): ScriptedReply;
}

export interface MockAnthropic {
  /** `http://127.0.0.1:PORT`: what ANTHROPIC_BASE_URL takes. */
  readonly baseUrl: string;
  readonly requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

/** Every block of every message of the request, in order, with the message's role. */
export function blocks(request: MessagesRequest): Array<ContentBlock & { role: string }> {
  return request.messages.flatMap((message) =>
    typeof message.content === 'string'
      ? [{ type: 'text', text: message.content, role: message.role }]
      : message.content.map((block) => ({ ...block, role: message.role })),
  );
}

/** The `tool_result` block answering tool use `id`, if the request carries one. */
export function toolResultFor(request: MessagesRequest, id: string): ContentBlock | undefined {
  return blocks(request).find((block) => block.type === 'tool_result' && block.tool_use_id === id);
}

/** The ids of the model's earlier uses of tool `name` in the request's history. */
export function toolUseIds(request: MessagesRequest, name: string): string[] {
  return blocks(request)
    .filter((block) => block.type === 'tool_use' && block.name === name)
    .map((block) => String(block.id));
}

const offers = (request: MessagesRequest, name: string) =>
  request.tools?.some((tool) => tool.name === name) ?? false;

/**
 * The usual script for one MCP tool (`mcp__<server>__<tool>`): while its schema is deferred
 * (offered by name only, with ToolSearch), load it with ToolSearch `select:<name>`; once offered,
 * use it with `input(request)`; on the request that carries its result, answer `text(result)`.
 * Anything else (a side request without the tools) gets plain text.
 */
export function searchThenUse(
  name: string,
  input: (request: MessagesRequest) => Record<string, unknown>,
  text: (result: ContentBlock) => string = (result) => `The tool answered: ${resultText(result)}`,
): (request: MessagesRequest) => ScriptedReply {
  return (request) => {
    for (const id of toolUseIds(request, name)) {
      const result = toolResultFor(request, id);
      if (result !== undefined) return { text: text(result) };
    }
    if (offers(request, name)) return { toolUse: { name, input: input(request) } };
    const searched = toolUseIds(request, 'ToolSearch').length > 0;
    if (offers(request, 'ToolSearch') && !searched)
      return { toolUse: { name: 'ToolSearch', input: { query: `select:${name}` } } };
    return { text: searched ? `ToolSearch did not load ${name}` : 'No tool for this.' };
  };
}

/** The text of a `tool_result` block (a string, or a list of text blocks). */
export function resultText(result: ContentBlock): string {
  const { content } = result;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      typeof part === 'object' && part !== null && 'text' in part ? String(part.text) : '',
    )
    .join('');
}

export async function startMockAnthropic(options: MockAnthropicOptions): Promise<MockAnthropic> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    void answer(request, response).catch(() => response.destroy());
  });

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '').split('?', 1)[0] ?? '';
    const header = request.headers['x-claude-code-session-id'];
    const base = {
      method: request.method ?? '',
      path,
      session: typeof header === 'string' ? header : undefined,
    };
    const text = await readBody(request, MAX_BODY_BYTES);
    if (text === undefined) {
      apiError(response, 413, 'request_too_large', 'request body too large');
      return;
    }
    if (request.method !== 'POST' || (path !== '/v1/messages' && !path.endsWith('/count_tokens'))) {
      requests.push({ ...base, body: undefined, at: performance.now() });
      apiError(response, 404, 'not_found_error', `no ${request.method} ${path} here`);
      return;
    }
    let parsed: ReturnType<typeof MessagesRequestSchema.safeParse>;
    try {
      parsed = MessagesRequestSchema.safeParse(JSON.parse(text));
    } catch {
      apiError(response, 400, 'invalid_request_error', 'the body is not JSON');
      return;
    }
    if (!parsed.success) {
      apiError(response, 400, 'invalid_request_error', z.prettifyError(parsed.error));
      return;
    }
    const recorded = { ...base, body: parsed.data, at: performance.now() };
    requests.push(recorded);
    if (path !== '/v1/messages') {
      sendJson(response, 200, { input_tokens: Math.ceil(text.length / 4) });
      return;
    }
    const reply = options.reply(parsed.data, recorded);
    const message = assistantMessage(parsed.data.model, reply);
    if (parsed.data.stream === true) stream(response, message);
    else sendJson(response, 200, message);
  }

  const { port, close } = await listenOnLoopback(server);
  return { baseUrl: `http://127.0.0.1:${port}`, requests, close };
}

interface AssistantMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Array<Record<string, unknown>>;
  stop_reason: 'end_turn' | 'tool_use';
  stop_sequence: null;
  usage: { input_tokens: number; output_tokens: number };
}

function assistantMessage(model: string, reply: ScriptedReply): AssistantMessage {
  const block =
    'text' in reply
      ? { type: 'text', text: reply.text }
      : { type: 'tool_use', id: `toolu_mock${randomBytes(8).toString('hex')}`, ...reply.toolUse };
  return {
    id: `msg_mock${randomBytes(8).toString('hex')}`,
    type: 'message',
    role: 'assistant',
    model,
    content: [block],
    stop_reason: 'text' in reply ? 'end_turn' : 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 1, output_tokens: 1 },
  };
}

/** The message as the API streams it: one content block, its text or input JSON in one delta. */
function stream(response: ServerResponse, message: AssistantMessage): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  const send = (type: string, data: object) =>
    response.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const [block = {}] = message.content;
  send('message_start', {
    message: { ...message, content: [], stop_reason: null, usage: { ...message.usage } },
  });
  if (block.type === 'text') {
    send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: block.text } });
  } else {
    const { input, ...start } = block;
    send('content_block_start', { index: 0, content_block: { ...start, input: {} } });
    const partial_json = JSON.stringify(input);
    send('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json } });
  }
  send('content_block_stop', { index: 0 });
  send('message_delta', {
    delta: { stop_reason: message.stop_reason, stop_sequence: null },
    usage: { output_tokens: message.usage.output_tokens },
  });
  send('message_stop', {});
  response.end();
}

function apiError(response: ServerResponse, status: number, type: string, message: string) {
  sendJson(response, status, { type: 'error', error: { type, message } });
}

function sendJson(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
