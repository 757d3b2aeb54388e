/**
 * Real browser tools: a notification in the page, the page's colour, a slow `wait_for_click` that
 * gives up the moment the agent cancels it, and `snapshot_page`, which answers with an image of
 * the page (a content block, so the model sees a picture). DOM only (browser-safe).
 */
import { defineTool, type ToolDefinition, toolContent } from 'toolproxy/provider';
import { z } from 'zod';

/** The page drawn onto a canvas, and what was drawn. */
export interface PageSnapshot {
  /** PNG bytes, base64 (no `data:` prefix). */
  png: string;
  width: number;
  height: number;
  background: string;
  notification: string | null;
  /** The calls listed on the page, newest first: tool and status. */
  calls: string[];
}

export interface PageSurface {
  notify(title: string, body: string): void;
  setColor(color: string): void;
  /** Shows a button with `label`; resolves when clicked; `signal` withdraws it. */
  waitForClick(label: string, signal: AbortSignal): Promise<void>;
  snapshot(): PageSnapshot;
}

const cssColor = z
  .string()
  .max(40)
  .regex(/^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$/, 'a CSS colour name or #hex');

export function browserTools(page: PageSurface): ToolDefinition[] {
  return [
    defineTool({
      name: 'show_notification',
      description: 'Show a notification banner in the page.',
      input: z.object({ title: z.string().max(80), body: z.string().max(500).default('') }),
      handler: ({ title, body }) => {
        page.notify(title, body);
        return 'shown';
      },
    }),
    defineTool({
      name: 'set_page_color',
      description: 'Change the background colour of the page (a CSS colour name or #hex).',
      input: z.object({ color: cssColor }),
      annotations: { idempotentHint: true },
      handler: ({ color }) => {
        page.setColor(color);
        return { color };
      },
    }),
    defineTool({
      name: 'wait_for_click',
      description:
        'Show a button and wait until the person at the page clicks it. Slow: it waits for a human.',
      input: z.object({ label: z.string().max(60).default('Click me') }),
      timeoutMs: 120_000,
      handler: async ({ label }, { signal }) => {
        const started = Date.now();
        await page.waitForClick(label, signal);
        return { clicked: true, afterMs: Date.now() - started };
      },
    }),
    defineTool({
      name: 'snapshot_page',
      description:
        'Take a picture of the page as the person sees it: its colour, the notification and the calls listed (a PNG image).',
      input: z.object({}),
      annotations: { readOnlyHint: true },
      handler: () => {
        const { png, ...state } = page.snapshot();
        const notification = state.notification === null ? 'none' : `"${state.notification}"`;
        return toolContent(
          [
            { type: 'image', data: png, mimeType: 'image/png' },
            {
              type: 'text',
              text: `The page, ${state.width}×${state.height}: background ${state.background}, notification ${notification}, ${state.calls.length} calls listed.`,
            },
          ],
          state,
        );
      },
    }),
  ];
}
