/**
 * A model server of our own on loopback that speaks OpenAI's chat completions
 * (`POST /v1/chat/completions`), for driving real agents (docker-agent) through a scripted turn
 * without any model: each request is answered by the test's `reply` function with a tool call or
 * with text, as server-sent chunks when the client asks `stream: true`, else as one JSON body.
 * Every request is recorded (parsed body and arrival time), so a test can check what the agent
 * sent back, e.g. the tool result in the request after the call.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { listenOnLoopback, readBody } from './mock-http.js';

/** Largest request body accepted: an agent's system prompt, tools and history fit easily. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const ToolCallSchema = z.object({
  id: z.string(),
  type: z.string().optional(),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

/** The parts of a chat message the tests read; other fields pass through untouched. */
const MessageSchema = z.looseObject({
  role: z.string(),
  content: z.unknown().optional(),
  tool_call_id: z.string().optional(),
  tool_calls: z.array(ToolCallSchema).optional(),
});

const ChatRequestSchema = z.looseObject({
  model: z.string(),
  messages: z.array(MessageSchema),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).optional(),
  tools: z
    .array(z.looseObject({ type: z.string(), function: z.looseObject({ name: z.string() }) }))
    .optional(),
});

export type ChatMessage = z.infer<typeof MessageSchema>;
export type ChatRequest = z.infer<typeof ChatRequestSchema>;

export interface RecordedRequest {
  readonly body: ChatRequest;
  /** `performance.now()` when the body had arrived. */
  readonly at: number;
}

export type ScriptedReply =
  | { readonly toolCall: { readonly name: string; readonly arguments: Record<string, unknown> } }
  | { readonly text: string };

export interface MockOpenAiOptions {
  /** The answer to one request (`index` counts the requests, from 0). */
  reply(request: ChatRequest, index: number): ScriptedReply;
}

export interface MockOpenAi {
  /** `http://127.0.0.1:PORT/v1`: an OpenAI-compatible base URL. */
  readonly baseUrl: string;
  readonly requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

/** The text of a message's content (a string, or OpenAI's list of `{type: "text", text}` parts). */
export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      typeof part === 'object' && part !== null && 'text' in part ? String(part.text) : '',
    )
    .join('');
}

/** The text of the request's last user message: what the agent was asked. */
export function lastUserText(request: ChatRequest): string {
  const user = request.messages.filter((message) => message.role === 'user').at(-1);
  return user === undefined ? '' : messageText(user);
}

/** The tool results the request carries (messages of role `tool`). */
export function toolResults(request: ChatRequest): ChatMessage[] {
  return request.messages.filter((message) => message.role === 'tool');
}

/**
 * The usual script: a request that offers tool `name` and carries no tool result yet gets a call of
 * it with `args`; any other request (the one carrying the result, a title request without tools)
 * gets `text`.
 */
export function callToolThenAnswer(
  name: string,
  args: Record<string, unknown>,
  text: string,
): (request: ChatRequest) => ScriptedReply {
  return (request) => {
    const offered = request.tools?.some((tool) => tool.function.name === name) ?? false;
    return offered && toolResults(request).length === 0
      ? { toolCall: { name, arguments: args } }
      : { text };
  };
}

export async function startMockOpenAi(options: MockOpenAiOptions): Promise<MockOpenAi> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    void answer(request, response).catch(() => response.destroy());
  });

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'POST' || request.url?.split('?')[0] !== '/v1/chat/completions') {
      sendJson(response, 404, { error: { message: `no ${request.method} ${request.url} here` } });
      request.resume();
      return;
    }
    const text = await readBody(request, MAX_BODY_BYTES);
    if (text === undefined) {
      sendJson(response, 413, { error: { message: 'request body too large' } });
      return;
    }
    let parsed: ReturnType<typeof ChatRequestSchema.safeParse>;
    try {
      parsed = ChatRequestSchema.safeParse(JSON.parse(text));
    } catch {
      sendJson(response, 400, { error: { message: 'the body is not JSON' } });
      return;
    }
    if (!parsed.success) {
      sendJson(response, 400, { error: { message: z.prettifyError(parsed.error) } });
      return;
    }
    const index = requests.length;
    requests.push({ body: parsed.data, at: performance.now() });
    const reply = options.reply(parsed.data, index);
    const id = `chatcmpl-mock-${index}`;
    if (parsed.data.stream === true) streamReply(response, id, parsed.data, reply, index);
    else sendJson(response, 200, completion(id, parsed.data.model, reply, index));
  }

  const { port, close } = await listenOnLoopback(server);
  return { baseUrl: `http://127.0.0.1:${port}/v1`, requests, close };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const USAGE = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

function toolCallOf(reply: ScriptedReply, index: number) {
  if (!('toolCall' in reply)) return undefined;
  return {
    id: `call_mock_${index}`,
    type: 'function',
    function: { name: reply.toolCall.name, arguments: JSON.stringify(reply.toolCall.arguments) },
  };
}

function completion(id: string, model: string, reply: ScriptedReply, index: number) {
  const call = toolCallOf(reply, index);
  return {
    id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message:
          call === undefined
            ? { role: 'assistant', content: 'text' in reply ? reply.text : '' }
            : { role: 'assistant', content: null, tool_calls: [call] },
        finish_reason: call === undefined ? 'stop' : 'tool_calls',
      },
    ],
    usage: USAGE,
  };
}

/** The reply as chat.completion.chunk events, the way OpenAI streams: role, pieces, finish, usage. */
function streamReply(
  response: ServerResponse,
  id: string,
  request: ChatRequest,
  reply: ScriptedReply,
  index: number,
): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: object, finish: string | null = null, extra: object = {}) =>
    response.write(
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model: request.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
        ...extra,
      })}\n\n`,
    );
  const call = toolCallOf(reply, index);
  if (call === undefined) {
    const text = 'text' in reply ? reply.text : '';
    chunk({ role: 'assistant', content: '' });
    // Two pieces, so a client that only handles one chunk per answer would show.
    const half = Math.ceil(text.length / 2);
    for (const piece of [text.slice(0, half), text.slice(half)])
      if (piece !== '') chunk({ content: piece });
    chunk({}, 'stop');
  } else {
    const { name, arguments: args } = call.function;
    chunk({
      role: 'assistant',
      content: null,
      tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name, arguments: '' } }],
    });
    chunk({ tool_calls: [{ index: 0, function: { arguments: args } }] });
    chunk({}, 'tool_calls');
  }
  if (request.stream_options?.include_usage === true)
    response.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: request.model, choices: [], usage: USAGE })}\n\n`,
    );
  response.end('data: [DONE]\n\n');
}
