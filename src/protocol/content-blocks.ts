/**
 * The content blocks a `client:tool-result` may carry in `content` (PROTOCOL.md section 3.2): MCP's
 * tool-result content (revisions 2025-06-18 and 2025-11-25), so the MCP front passes them through
 * and every block the proxy accepts also passes the MCP SDK client's own schema.
 *
 * `annotations` are kept (MCP's shape; they say who a block is for); `_meta`, `icons` and other
 * keys are stripped like any unknown key. Binary data is checked as base64 with a linear scan;
 * sizes are bounded by the frame cap, not here.
 */
import { z } from 'zod';

export const CONTENT_LIMITS = {
  /** Blocks in one result. */
  blocks: 64,
  mimeTypeLength: 255,
  uriLength: 8_192,
  nameLength: 1_024,
  descriptionLength: 8_192,
} as const;

/** RFC 4648 section 4 alphabet, padded (what `btoa`, `canvas.toDataURL` and Node's Buffer write). */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && BASE64.test(text);
}

const base64 = z
  .string()
  .refine(isBase64, 'must be base64 (RFC 4648, padded), without a "data:" URL prefix');

/** RFC 6838 `type/subtype` with optional `; name=value` parameters, e.g. `text/plain; charset=utf-8`. */
const MIME_TYPE =
  /^[A-Za-z0-9][\w!#$&^.+-]{0,126}\/[A-Za-z0-9][\w!#$&^.+-]{0,126}(\s*;\s*[\w!#$&^.+-]+=("[^"\\\r\n]*"|[\w!#$&^.+-]+))*$/;

function mimeType(topLevel?: 'image' | 'audio') {
  const mime = z
    .string()
    .max(CONTENT_LIMITS.mimeTypeLength)
    .regex(MIME_TYPE, 'must be a MIME type such as "image/png"');
  if (topLevel === undefined) return mime;
  return mime.refine(
    (value) => value.toLowerCase().startsWith(`${topLevel}/`),
    `must be an ${topLevel}/* MIME type`,
  );
}

/** A URI with a scheme (`https:`, `file:`, `ui:`, ...): MCP sends these on to clients as they are. */
const uri = z
  .string()
  .max(CONTENT_LIMITS.uriLength)
  .regex(/^[A-Za-z][A-Za-z0-9+.-]*:\S*$/, 'must be a URI with a scheme, e.g. "file:///a.png"');

/** MCP `Annotations`: hints for the client about who a block is for and how much it matters. */
export const ContentAnnotationsSchema = z.object({
  audience: z
    .array(z.enum(['user', 'assistant']))
    .max(2)
    .optional(),
  priority: z.number().min(0).max(1).optional(),
  lastModified: z.iso.datetime({ offset: true }).optional(),
});

const annotations = ContentAnnotationsSchema.optional();

export const TextBlockSchema = z.object({
  type: z.literal('text'),
  text: z.string(),
  annotations,
});

export const ImageBlockSchema = z.object({
  type: z.literal('image'),
  data: base64.min(1),
  mimeType: mimeType('image'),
  annotations,
});

export const AudioBlockSchema = z.object({
  type: z.literal('audio'),
  data: base64.min(1),
  mimeType: mimeType('audio'),
  annotations,
});

export type ResourceContents =
  | { uri: string; mimeType?: string; text: string }
  | { uri: string; mimeType?: string; blob: string };

/** An embedded resource's contents: exactly one of `text` and `blob` (base64). */
const ResourceContentsSchema = z
  .object({
    uri,
    mimeType: mimeType().optional(),
    text: z.string().optional(),
    blob: base64.optional(),
  })
  .refine(
    (resource) => (resource.text === undefined) !== (resource.blob === undefined),
    'a resource carries exactly one of "text" and "blob" (base64)',
  )
  .transform((resource): ResourceContents => {
    const head = {
      uri: resource.uri,
      ...(resource.mimeType === undefined ? {} : { mimeType: resource.mimeType }),
    };
    return resource.text === undefined
      ? { ...head, blob: resource.blob ?? '' }
      : { ...head, text: resource.text };
  });

export const ResourceBlockSchema = z.object({
  type: z.literal('resource'),
  resource: ResourceContentsSchema,
  annotations,
});

export const ResourceLinkBlockSchema = z.object({
  type: z.literal('resource_link'),
  uri,
  name: z.string().min(1).max(CONTENT_LIMITS.nameLength),
  title: z.string().max(CONTENT_LIMITS.nameLength).optional(),
  description: z.string().max(CONTENT_LIMITS.descriptionLength).optional(),
  mimeType: mimeType().optional(),
  /** Bytes of the raw resource, if known. */
  size: z.number().int().nonnegative().optional(),
  annotations,
});

export const ContentBlockSchema = z.discriminatedUnion('type', [
  TextBlockSchema,
  ImageBlockSchema,
  AudioBlockSchema,
  ResourceBlockSchema,
  ResourceLinkBlockSchema,
]);

/** `client:tool-result.content`: 1 to 64 blocks, what the model is shown. */
export const ContentBlocksSchema = z.array(ContentBlockSchema).min(1).max(CONTENT_LIMITS.blocks);

export type ContentAnnotations = z.infer<typeof ContentAnnotationsSchema>;
export type TextBlock = z.output<typeof TextBlockSchema>;
export type ImageBlock = z.output<typeof ImageBlockSchema>;
export type AudioBlock = z.output<typeof AudioBlockSchema>;
export type ResourceBlock = z.output<typeof ResourceBlockSchema>;
export type ResourceLinkBlock = z.output<typeof ResourceLinkBlockSchema>;
/** One block as the proxy hands it on (validated, unknown keys stripped). */
export type ContentBlock = z.output<typeof ContentBlockSchema>;
/** One block as a provider writes it. */
export type ContentBlockInput = z.input<typeof ContentBlockSchema>;

/** Bytes a base64 string decodes to (it must be valid base64). */
export function base64Bytes(data: string): number {
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return (data.length / 4) * 3 - padding;
}
