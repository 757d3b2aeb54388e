/**
 * Where `serve` logs: JSON lines on stderr for services and log collectors, readable lines for a
 * person at a terminal. `auto` (the default) picks readable when stderr is a TTY.
 */
import type { DestinationStream } from 'pino';

export type LogFormat = 'json' | 'pretty' | 'auto';

export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty', 'auto'];

/** Synchronous, like the JSON destination: the last lines before an exit are not lost. */
export async function logDestination(
  format: LogFormat,
  stderrIsTty: boolean,
): Promise<DestinationStream> {
  const pretty = format === 'pretty' || (format === 'auto' && stderrIsTty);
  if (!pretty) {
    const { pino } = await import('pino');
    return pino.destination({ fd: 2, sync: true });
  }
  const { default: pinoPretty } = await import('pino-pretty');
  return pinoPretty({
    destination: 2,
    sync: true,
    colorize: stderrIsTty,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
  });
}
