/**
 * Real browser tools: a notification in the page, the page's colour, and a slow `wait_for_click`
 * that gives up the moment the agent cancels it. DOM only (browser-safe).
 */
import { defineTool, type ToolDefinition } from 'toolproxy/provider';
import { z } from 'zod';

export interface PageSurface {
  notify(title: string, body: string): void;
  setColor(color: string): void;
  /** Shows a button with `label`; resolves when clicked; `signal` withdraws it. */
  waitForClick(label: string, signal: AbortSignal): Promise<void>;
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
  ];
}
