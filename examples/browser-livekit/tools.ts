/**
 * The page's tools. Browser-safe (DOM only). `ask_user` waits for a click and gives up the moment
 * the agent cancels: the question disappears and the page says why.
 */
import { defineTool, type ToolDefinition } from 'toolproxy/provider';
import { z } from 'zod';

export interface PageUi {
  /** Shows a message from the agent. */
  say(text: string): void;
  /** Shows a question with buttons; resolves with the chosen answer; `signal` withdraws it. */
  ask(question: string, choices: readonly string[], signal: AbortSignal): Promise<string>;
}

export function pageTools(ui: PageUi): ToolDefinition[] {
  return [
    defineTool({
      name: 'show_message',
      description: 'Show a short message to the person looking at the page.',
      input: z.object({ text: z.string().max(500) }),
      handler: ({ text }) => {
        ui.say(text);
        return 'shown';
      },
    }),
    defineTool({
      name: 'ask_user',
      description:
        'Ask the person at the page a question and wait for their answer (one of the choices).',
      input: z.object({
        question: z.string().max(300),
        choices: z.array(z.string().max(40)).min(1).max(5),
      }),
      timeoutMs: 120_000,
      handler: ({ question, choices }, { signal }) => ui.ask(question, choices, signal),
    }),
  ];
}
