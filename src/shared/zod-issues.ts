/** Zod's issues as one line a person or an LLM can act on: `field: problem; field: problem`. */
import type { z } from 'zod';

export interface IssueFormat {
  /** The name for an issue about the whole value (an empty path); '' leaves the message alone. */
  readonly whole?: string;
  /** At most this many issues are listed, then `and N more`. */
  readonly max?: number;
}

export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  { whole = '(frame)', max = 5 }: IssueFormat = {},
): string {
  const shown = issues.slice(0, max).map((issue) => {
    const path = issue.path.length === 0 ? whole : issue.path.map(String).join('.');
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
  const more = issues.length > max ? `; and ${issues.length - max} more` : '';
  return shown.join('; ') + more;
}
