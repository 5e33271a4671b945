import { InvalidOptionError } from '../errors.js';
import { ident, previewSql, sql } from '../sql/index.js';
import { newPgClient } from '../run/session.js';
import { reconnectLoop, retrySettings, type ConnectionInUse } from '../run/reconnect.js';
import { wakeableSleep } from '../run/backoff.js';
import { checkOutboxesInstalled } from './installed.js';
import type { OutboxWorker, OutboxWorkerEvent, OutboxWorkerOptions } from './worker-types.js';
import { outboxMetrics } from './metrics.js';
import { checkBatchSize, checkMaxAttempts, drainStatement, outboxNames, type OutboxNames } from './outbox.js';

export type { OutboxWorker, OutboxWorkerEvent, OutboxWorkerOptions } from './worker-types.js';

interface ListeningClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  on(event: 'notification' | 'error' | 'end', listener: (...args: unknown[]) => void): void;
  end(): Promise<void>;
}

async function newClient(connection: string | Record<string, unknown>): Promise<ListeningClient> {
  // A pg Client is a ListeningClient; pg's overloaded types do not say so to the compiler.
  return (await newPgClient(connection, 'The outbox worker')) as unknown as ListeningClient;
}

function positive(value: unknown, fallback: number, path: string): number {
  const number = value ?? fallback;
  if (typeof number !== 'number' || !Number.isFinite(number) || number <= 0)
    throw new InvalidOptionError(`${path} must be a positive number of milliseconds.`, path);
  return number;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A drain that failed: the message names the sync, and says whether the connection is still good. */
function drainFailure(label: string, error: unknown, connectionLost: boolean): Error {
  const text = message(error);
  const tagged = text.startsWith('pg-sync-link: could not deliver')
    ? text
    : `pg-sync-link: could not deliver the outbox of ${label}: ${text}`;
  return Object.assign(new Error(tagged, { cause: error }), { sync: label, delivery: !connectionLost });
}

/**
 * Starts a worker that delivers outbox syncs: it drains every outbox, then sleeps until a
 * NOTIFY says changes were recorded (or the poll interval passes). While the other side is
 * down, it retries with exponential backoff (capped, with jitter); a lost connection is reopened
 * the same way, by the reconnect loop it shares with the change-feed listener. A key the other
 * side keeps rejecting is set aside after `maxAttempts` (see `OutboxLag.setAside`), so the rest
 * flows on. Changes are never lost by the worker: a batch leaves the outbox only in the
 * transaction that delivered it (or set it aside).
 *
 * @example
 * const worker = startOutboxWorker({ connection: process.env.APP_DATABASE_URL!, syncs: [productsToLegacy], handleSignals: true });
 * await worker.stopped;
 */
export function startOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
  if (!Array.isArray(options?.syncs) || options.syncs.length === 0) {
    throw new InvalidOptionError(
      "startOutboxWorker needs syncs: the syncTrigger nodes made with delivery: 'outbox'.",
      'syncs',
    );
  }
  const outboxes: OutboxNames[] = options.syncs.map(outboxNames);
  const batchSize = checkBatchSize(options.batchSize, 'startOutboxWorker batchSize');
  const maxAttempts = checkMaxAttempts(options.maxAttempts, 'startOutboxWorker maxAttempts');
  const pollIntervalMs = positive(options.pollIntervalMs, 30_000, 'pollIntervalMs');
  const retry = retrySettings(options.retry);
  const metrics = outboxMetrics(options.metrics, outboxes);
  const emit = (event: OutboxWorkerEvent) => {
    metrics.event(event);
    options.onEvent?.(event);
  };
  const label = `the outbox worker of ${outboxes.map((names) => names.label).join(', ')}`;
  const sleep = wakeableSleep();
  // Passes are numbered; idle() waits for an empty pass that began after it was called.
  let passes = 0;
  let idleWaiters: Array<{ after: number; resolve: () => void; reject: (error: Error) => void }> = [];
  let lost = false;

  /** Drains each outbox until it is empty or fails; true when all were empty from the start. */
  async function pass(client: ListeningClient): Promise<boolean> {
    const number = ++passes;
    let allEmpty = true;
    for (const names of outboxes) {
      for (;;) {
        let rows: Array<Record<string, unknown>>;
        try {
          ({ rows } = await client.query(drainStatement(names), [batchSize, maxAttempts]));
        } catch (error) {
          // On a live connection this is the other side failing at commit: a delivery failure.
          throw drainFailure(names.label, error, lost);
        }
        // The drain function's one result row, of the columns its SQL declares.
        const {
          delivered,
          set_aside: setAside,
          error,
        } = rows[0] as { delivered: number; set_aside: number; error: string | null };
        if (delivered > 0) emit({ type: 'delivered', sync: names.label, count: delivered });
        if (setAside > 0) emit({ type: 'set-aside', sync: names.label, keys: setAside });
        if (delivered > 0 || setAside > 0) allEmpty = false;
        if (error !== null) throw drainFailure(names.label, error, false);
        if (delivered + setAside < batchSize || loop.stopping) break;
      }
    }
    if (allEmpty) {
      for (const waiter of idleWaiters.filter((candidate) => candidate.after < number)) waiter.resolve();
      idleWaiters = idleWaiters.filter((waiter) => waiter.after >= number);
    }
    return allEmpty;
  }

  async function open(): Promise<ListeningClient> {
    const client = await newClient(options.connection);
    lost = false;
    const gone = () => {
      lost = true;
      sleep.wake();
    };
    client.on('notification', () => sleep.wake());
    // Without a listener an 'error' event would throw; the next query reports it anyway.
    client.on('error', gone);
    client.on('end', gone);
    try {
      await client.connect();
      await checkOutboxesInstalled(client, outboxes);
      for (const names of outboxes) await client.query(previewSql(sql`LISTEN ${ident(names.channel)}`));
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  async function use(client: ListeningClient, connection: ConnectionInUse): Promise<void> {
    emit({ type: 'connected' });
    connection.healthy();
    while (!loop.stopping) {
      const started = performance.now();
      try {
        const empty = await pass(client);
        await metrics.passed(client, (performance.now() - started) / 1000);
        connection.healthy();
        if (lost) throw new Error('The connection to the database was lost.');
        // Changes may have been recorded while delivering: look again before sleeping.
        if (empty) await sleep.wait(pollIntervalMs);
      } catch (error) {
        // drainFailure() marks a delivery failure with `delivery` and `sync`; anything else is not one.
        if (!(error as { delivery?: boolean }).delivery) throw error;
        // The other side is down or refuses: wait the backoff; a NOTIFY does not cut it short.
        await metrics.passed(client, (performance.now() - started) / 1000);
        const retryInMs = connection.nextDelay();
        emit({ type: 'failed', sync: (error as { sync: string }).sync, error: message(error), retryInMs });
        await connection.pause(retryInMs);
      }
    }
  }

  const loop = reconnectLoop<ListeningClient>({
    retry,
    open,
    use,
    close: (client) => client.end(),
    onRetry: (error, retryInMs) => {
      // Set on the errors drainFailure() makes; absent on others (a lost connection).
      const sync = (error as { sync?: string }).sync;
      const text =
        sync !== undefined || message(error).startsWith('pg-sync-link:')
          ? message(error)
          : `pg-sync-link: ${label}: ${message(error)}`;
      emit(
        sync === undefined
          ? { type: 'disconnected', error: text, retryInMs }
          : { type: 'disconnected', error: text, retryInMs, sync },
      );
    },
  });

  const onSignal = () => void worker.stop();
  if (options.handleSignals) {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  let metricsFailure: unknown;
  metrics.ready.catch((error: unknown) => {
    metricsFailure = error;
    worker.stop().catch(() => undefined);
  });
  const stopped = loop.done.finally(async () => {
    await metrics.close();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    for (const waiter of idleWaiters)
      waiter.reject(new Error('The outbox worker stopped before its outboxes were empty.'));
    idleWaiters = [];
    emit({ type: 'stopped' });
    if (metricsFailure !== undefined) throw metricsFailure;
  });
  const worker: OutboxWorker = {
    stopped,
    metricsUrl: metrics.ready.catch(() => undefined),
    async stop() {
      loop.stop();
      sleep.wake();
      // What stopped the worker (metrics that could not start) is `stopped`'s to report.
      await stopped.catch(() => undefined);
    },
    idle() {
      const waiting = new Promise<void>((resolve, reject) => idleWaiters.push({ after: passes, resolve, reject }));
      sleep.wake();
      loop.retryNow();
      return waiting;
    },
  };
  return worker;
}
