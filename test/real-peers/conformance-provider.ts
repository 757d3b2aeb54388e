/**
 * The tools the MCP conformance suite (@modelcontextprotocol/conformance 0.1.16) calls on a server,
 * with the names, arguments and results its server scenarios expect of the reference server
 * (read from the installed package: each scenario's `description` and `run`), offered by a
 * provider over the WebSocket bridge. Only tools a provider can implement are here: tools that need
 * the server to send requests to the client (sampling, elicitation) have no wire frame to do it.
 */
import { pause, type WireTool, WireProvider } from './wire-provider.js';

const NO_ARGUMENTS = { type: 'object', properties: {}, additionalProperties: false } as const;

/** A 1x1 red PNG (RGBA 255,0,0,255). */
export const RED_PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

/** 10 ms of silence: a PCM WAV file, 8 kHz, mono, 16-bit. */
export const SILENT_WAV = silentWav(80, 8_000);

function silentWav(samples: number, rate: number): string {
  const dataBytes = samples * 2;
  const file = Buffer.alloc(44 + dataBytes);
  file.write('RIFF', 0);
  file.writeUInt32LE(36 + dataBytes, 4);
  file.write('WAVE', 8);
  file.write('fmt ', 12);
  file.writeUInt32LE(16, 16); // fmt chunk size
  file.writeUInt16LE(1, 20); // PCM
  file.writeUInt16LE(1, 22); // channels
  file.writeUInt32LE(rate, 24);
  file.writeUInt32LE(rate * 2, 28); // bytes per second
  file.writeUInt16LE(2, 32); // block align
  file.writeUInt16LE(16, 34); // bits per sample
  file.write('data', 36);
  file.writeUInt32LE(dataBytes, 40);
  return file.toString('base64');
}

function tool(
  name: string,
  description: string,
  run: WireTool['run'],
  inputSchema: WireTool['inputSchema'] = NO_ARGUMENTS,
): WireTool {
  return { name, description, inputSchema, run };
}

export const CONFORMANCE_TOOLS: readonly WireTool[] = [
  // tools-call-simple-text
  tool('test_simple_text', 'Returns simple text content', () => ({
    content: [{ type: 'text', text: 'This is a simple text response for testing.' }],
  })),
  // tools-call-image
  tool('test_image_content', 'Returns image content', () => ({
    content: [{ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' }],
  })),
  // tools-call-audio
  tool('test_audio_content', 'Returns audio content', () => ({
    content: [{ type: 'audio', data: SILENT_WAV, mimeType: 'audio/wav' }],
  })),
  // tools-call-embedded-resource
  tool('test_embedded_resource', 'Returns an embedded resource', () => ({
    content: [
      {
        type: 'resource',
        resource: {
          uri: 'test://embedded-resource',
          mimeType: 'text/plain',
          text: 'This is an embedded resource content.',
        },
      },
    ],
  })),
  // tools-call-mixed-content
  tool('test_multiple_content_types', 'Returns text, image and resource content', () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
      {
        type: 'resource',
        resource: {
          uri: 'test://mixed-content-resource',
          mimeType: 'application/json',
          text: JSON.stringify({ test: 'data', value: 123 }),
        },
      },
    ],
  })),
  // tools-call-error
  tool('test_error_handling', 'Always fails', () => ({
    error: 'This tool intentionally returns an error for testing',
  })),
  // tools-call-with-progress: 0/100, 50/100, 100/100, about 50 ms apart.
  tool('test_tool_with_progress', 'Reports progress while it runs', async (call) => {
    call.progress(0, 100);
    await pause(50, call.signal);
    call.progress(50, 100);
    await pause(50, call.signal);
    call.progress(100, 100);
    return { content: [{ type: 'text', text: 'Progress tool completed' }] };
  }),
  // tools-call-with-logging: three `notifications/message` at info level during the call (after
  // the client's logging/setLevel debug), about 50 ms apart: each a `client:tool-log`.
  tool('test_tool_with_logging', 'Sends three log messages while it runs', async (call) => {
    call.log('info', 'Tool execution started');
    await pause(50, call.signal);
    call.log('info', 'Tool processing data');
    await pause(50, call.signal);
    call.log('info', 'Tool execution completed');
    return { content: [{ type: 'text', text: 'Logging tool completed' }] };
  }),
  // server-sse-polling calls it; the stream closing mid-call is the HTTP server's part, not a tool's.
  tool('test_reconnection', 'Answers after about 100 ms', async (call) => {
    await pause(100, call.signal);
    return { content: [{ type: 'text', text: 'Reconnection test completed successfully' }] };
  }),
  // json-schema-2020-12: the listing must keep `$schema`, `$defs` and `additionalProperties`.
  tool(
    'json_schema_2020_12_tool',
    'Tool with JSON Schema 2020-12 features',
    (call) => ({ result: call.arguments }),
    {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: {
        address: {
          type: 'object',
          properties: { street: { type: 'string' }, city: { type: 'string' } },
        },
      },
      properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
      additionalProperties: false,
    },
  ),
];

/** Connects a provider offering every conformance tool to the bridge at `bridgeUrl`. */
export function startConformanceProvider(bridgeUrl: string, token: string): Promise<WireProvider> {
  return WireProvider.connect(bridgeUrl, token, CONFORMANCE_TOOLS);
}
