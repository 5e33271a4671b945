import { InvalidOptionError } from '../errors.js';
import { backoff } from './backoff.js';

/** How a long-running client waits between connection attempts. */
export interface RetryOptions {
  /** The first wait after a failure, in ms; default 500. */
  readonly initialMs?: number;
  /** The longest wait, in ms; default 30 000. Each wait doubles up to it, less up to a quarter (jitter). */
  readonly maxMs?: number;
}

/** What the connection's user gets from the loop. */
export interface ConnectionInUse {
  /** The connection works: the next failure waits the initial delay again. */
  healthy(): void;
  /** The next wait of the shared backoff, for a failure the user retries itself on this connection. */
  nextDelay(): number;
  /** Waits `ms`, ended early only by stop() or retryNow(). */
  pause(ms: number): Promise<void>;
}

export interface ReconnectOptions<Client> {
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
  /** Opens a connection and readies it (LISTEN, checks); a throw is a failed attempt. */
  readonly open: () => Promise<Client>;
  /** Works on the open connection until it is lost (throws) or the loop stops (returns). */
  readonly use: (client: Client, connection: ConnectionInUse) => Promise<void>;
  readonly close: (client: Client) => Promise<void>;
  /** Called before each wait, with the error and the wait it announces (and keeps). */
  readonly onRetry: (error: unknown, retryInMs: number) => void;
  /** An error that ends the loop (rethrown by `done`) instead of a retry; default none. */
  readonly isFatal?: (error: unknown) => boolean;
}

export interface ReconnectLoop {
  /** Settles when the loop ends: after stop(), or with a fatal error. */
  readonly done: Promise<void>;
  /** True once stop() was called. */
  readonly stopping: boolean;
  /** Ends the loop: a wait in progress ends at once; the connection in use is closed after `use` returns. */
  stop(): void;
  /** Ends the current backoff wait now (an explicit request, e.g. a drain asked for). */
  retryNow(): void;
}

/**
 * The one reconnect loop of the outbox worker and the change-feed listener: open, use, and on a
 * failure wait the announced backoff (exponential, capped, with jitter) before the next attempt.
 * The wait is ended only by stop() or retryNow(), never by the lost connection's own events,
 * so a server that is down sees one attempt per announced wait.
 */
export function reconnectLoop<Client>(options: ReconnectOptions<Client>): ReconnectLoop {
  const delays = backoff(options.retry.initialMs, options.retry.maxMs);
  let stopping = false;
  let wake: (() => void) | undefined;

  function pause(ms: number): Promise<void> {
    if (stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  async function run(): Promise<void> {
    while (!stopping) {
      let client: Client | undefined;
      try {
        client = await options.open();
        if (stopping) break;
        await options.use(client, { healthy: () => delays.reset(), nextDelay: () => delays.delay(), pause });
      } catch (error) {
        if (options.isFatal?.(error)) throw error;
        if (stopping) break;
        const retryInMs = delays.delay();
        options.onRetry(error, retryInMs);
        await closeQuietly(client);
        client = undefined;
        await pause(retryInMs);
      } finally {
        await closeQuietly(client);
      }
    }
  }

  async function closeQuietly(client: Client | undefined): Promise<void> {
    if (client !== undefined) await options.close(client).catch(() => undefined);
  }

  const loop = {
    done: Promise.resolve().then(run),
    get stopping() {
      return stopping;
    },
    stop() {
      stopping = true;
      wake?.();
    },
    retryNow() {
      wake?.();
    },
  };
  return loop;
}

/** The checked retry settings, with their defaults; a bad value is refused before anything runs. */
export function retrySettings(retry: RetryOptions | undefined): { initialMs: number; maxMs: number } {
  const check = (value: unknown, fallback: number, path: string) => {
    const number = value ?? fallback;
    if (typeof number !== 'number' || !Number.isFinite(number) || number <= 0)
      throw new InvalidOptionError(`${path} must be a positive number of milliseconds.`, path);
    return number;
  };
  const settings = {
    initialMs: check(retry?.initialMs, 500, 'retry.initialMs'),
    maxMs: check(retry?.maxMs, 30_000, 'retry.maxMs'),
  };
  if (settings.maxMs < settings.initialMs)
    throw new InvalidOptionError('retry.maxMs must be at least retry.initialMs.', 'retry.maxMs');
  return settings;
}
