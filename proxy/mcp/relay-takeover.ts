/**
 * A relay process: attached to the toolproxy already on its port and, should that one go away,
 * taking the port over (becoming the proxy, which its providers reconnect to) or attaching to
 * whichever relay took it first. Its stdio client keeps one session throughout.
 */
import type { Readable, Writable } from 'node:stream';
import { describeUnknown, type Logger, type ToolProxy } from '../../src/index.js';
import { serveMcpRelay } from './relay.js';
import { connectHttpUpstream } from './relay-http.js';
import { isAddressInUse, isToolproxyAt, portTakenMessage } from './relay-probe.js';
import { connectLocalUpstream, type RelayUpstream } from './relay-upstream.js';

/** What `startProxy` starts: the whole proxy, listening on the port. */
export interface ServingProxy {
  readonly proxy: ToolProxy;
  close(): Promise<void>;
}

export interface RelayProcessOptions {
  /** The port's base URL, e.g. `http://127.0.0.1:7300`. */
  url: string;
  /** Sent to the upstream as `Authorization: Bearer <secret>`. */
  secret?: string;
  /** Starts the proxy in this process on the port; rejects with EADDRINUSE while it is held. */
  startProxy: () => Promise<ServingProxy>;
  logger: Logger;
  sessionKey?: string;
  stdin?: Readable;
  stdout?: Writable;
  /** Tries to take the port over this many times, backing off from 200 ms. Default 6 (about 6 s). */
  takeoverAttempts?: number;
}

export interface RelayProcess {
  /** Settles when the stdio client has gone and the upstream session has ended. */
  readonly ended: Promise<void>;
  /** Ends the upstream session and the stdio server, and the proxy if this process became it. */
  close(): Promise<void>;
}

/**
 * Longer in all than the 2 s a proxy takes to shut down: the port is held until it has, and its
 * `/mcp` already refuses new sessions meanwhile.
 */
const DEFAULT_TAKEOVER_ATTEMPTS = 6;

/** Attaches to the toolproxy at `options.url`; rejects, with a message to act on, if it cannot. */
export async function startRelay(options: RelayProcessOptions): Promise<RelayProcess> {
  const { url, logger } = options;
  const attempts = options.takeoverAttempts ?? DEFAULT_TAKEOVER_ATTEMPTS;
  const attach = () => connectHttpUpstream({ url, logger, secret: options.secret });
  let local: ServingProxy | undefined;
  let closing = false;

  /** This process's proxy on the port, or undefined while something else holds it. */
  const takeOver = async (): Promise<ServingProxy | undefined> => {
    if (local !== undefined) return local;
    let started: ServingProxy;
    try {
      started = await options.startProxy();
    } catch (error) {
      if (isAddressInUse(error)) return undefined;
      throw error;
    }
    if (closing) {
      await started.close();
      throw new Error('the relay is shutting down');
    }
    logger.info({ url }, 'relay: the upstream toolproxy is gone; this process is the proxy now');
    local = started;
    return local;
  };

  const reattach = async (): Promise<RelayUpstream> => {
    for (let attempt = 1; ; attempt++) {
      const mine = await takeOver();
      if (mine !== undefined) return connectLocalUpstream(mine.proxy, { logger });
      // Still held: by a relay that took it over first, or by the old proxy still shutting down.
      let problem = portTakenMessage(url);
      if (await isToolproxyAt(url)) {
        try {
          return await attach();
        } catch (error) {
          problem = describeUnknown(error);
        }
      }
      if (attempt >= attempts) throw new Error(problem);
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  };

  const session = await serveMcpRelay({
    upstream: await attach(),
    reattach,
    logger,
    sessionKey: options.sessionKey,
    stdin: options.stdin,
    stdout: options.stdout,
  });
  return {
    ended: session.closed,
    close: async () => {
      closing = true;
      await session.close();
      await local?.close();
    },
  };
}
