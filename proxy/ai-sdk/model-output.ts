/**
 * What the model is sent for a tool's output (`toModelOutput`). A plain result goes as the SDK
 * would send it anyway (a string as text, anything else as JSON). Content blocks become the SDK's
 * `content` output: text as text parts, images, audio and binary resources as `file` parts of
 * inline base64 data with their media type, text resources as text headed by their URI. A
 * resource link becomes text naming it, never a `file` URL part: the SDK or a model provider
 * could go and download a URL a tool provider chose.
 *
 * Outputs of UI messages that went through JSON (useChat, stored chats) come back as the
 * ToolResultContent's JSON, `{content, structured?}`; those are recognised too, so history does not
 * send the model a JSON dump of an image's base64.
 */
import type { JSONValue, ToolResultPart } from 'ai';
import { type ContentBlock, isToolResultContent, type ResourceLinkBlock } from '../../src/index.js';
import { ContentBlocksSchema } from '../../src/front-seam.js';

export type ToolModelOutput = ToolResultPart['output'];
type ContentPart = Extract<ToolModelOutput, { type: 'content' }>['value'][number];

export function toModelOutput(output: unknown): ToolModelOutput {
  const content = contentOf(output);
  if (content !== undefined) return { type: 'content', value: content.map(toContentPart) };
  if (typeof output === 'string') return { type: 'text', value: output };
  // Call results are parsed JSON (or a ToolResultContent, handled above).
  return { type: 'json', value: (output ?? null) as JSONValue };
}

function contentOf(output: unknown): readonly ContentBlock[] | undefined {
  if (isToolResultContent(output)) return output.content;
  if (!isContentJson(output)) return undefined;
  const parsed = ContentBlocksSchema.safeParse(output.content);
  return parsed.success ? parsed.data : undefined;
}

/** The JSON of a ToolResultContent: `content` and at most `structured`, nothing else. */
function isContentJson(value: unknown): value is { content: unknown } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return (
    Array.isArray((value as { content?: unknown }).content) &&
    keys.every((key) => key === 'content' || key === 'structured')
  );
}

function toContentPart(block: ContentBlock): ContentPart {
  switch (block.type) {
    case 'text':
      return textPart(block.text);
    case 'image':
    case 'audio':
      return filePart(block.mimeType, block.data);
    case 'resource': {
      const { resource } = block;
      if ('text' in resource) return textPart(`Resource <${resource.uri}>:\n${resource.text}`);
      return filePart(resource.mimeType ?? 'application/octet-stream', resource.blob);
    }
    case 'resource_link':
      return textPart(describeLink(block));
  }
}

// Typed one part kind at a time: the union also holds the SDK's deprecated part kinds.
type TextPart = Extract<ContentPart, { type: 'text' }>;
type FilePart = Extract<ContentPart, { type: 'file' }>;

function textPart(text: string): TextPart {
  return { type: 'text', text };
}

function filePart(mediaType: string, base64: string): FilePart {
  return { type: 'file', mediaType, data: { type: 'data', data: base64 } };
}

function describeLink(link: ResourceLinkBlock): string {
  const what = [link.mimeType, link.size === undefined ? undefined : `${link.size} bytes`]
    .filter(Boolean)
    .join(', ');
  const name = link.title === undefined ? link.name : `${link.title} (${link.name})`;
  const description = link.description === undefined ? '' : `: ${link.description}`;
  return `Resource link: ${name} <${link.uri}>${what === '' ? '' : ` [${what}]`}${description}`;
}
