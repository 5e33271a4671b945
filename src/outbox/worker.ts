import { InvalidOptionError } from '../errors.js';
import type { SyncTriggerNode } from '../kinds/sync/sync-trigger.js';
import { ident, previewSql, sql } from '../sql/index.js';
import { newPgClient } from '../run/session.js';
import { backoff, wakeableSleep } from './backoff.js';
import { checkBatchSize, drainStatement, outboxNames, type OutboxNames } from './outbox.js';

/** What a worker reports as it goes; useful for logs and metrics. */
export type OutboxWorkerEvent =
  | { readonly type: 'connected' }
  | { readonly type: 'delivered'; readonly sync: string; readonly count: number }
  | { readonly type: 'failed'; readonly sync: string; readonly error: string; readonly retryInMs: number }
  | { readonly type: 'disconnected'; readonly error: string; readonly retryInMs: number }
  | { readonly type: 'stopped' };

export interface OutboxWorkerOptions {
  /** The database that holds the outboxes: a connection string or a pg Client config. The worker keeps one connection of its own (LISTEN needs one). */
  readonly connection: string | Record<string, unknown>;
  /** Syncs made with `delivery: 'outbox'`, whose outboxes this worker drains. */
  readonly syncs: readonly SyncTriggerNode[];
  /** Changes per batch (one transaction each); default 1000. */
  readonly batchSize?: number;
  /** Drain at least this often even when no notification arrives; default 30 s. */
  readonly pollIntervalMs?: number;
  /** Waits after a failure: from initialMs (default 500), doubling up to maxMs (default 30 s). */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
  readonly onEvent?: (event: OutboxWorkerEvent) => void;
  /** Stop cleanly on SIGTERM and SIGINT (finish the current batch, close the connection); default false. */
  readonly handleSignals?: boolean;
}

export interface OutboxWorker {
  /** Finishes the batch in flight, closes the connection; resolves when the worker has stopped. */
  stop(): Promise<void>;
  /** Drains now; resolves when a pass that began after this call found every outbox empty (for tests and shutdown scripts). */
  idle(): Promise<void>;
  /** Settles when the worker stops. */
  readonly stopped: Promise<void>;
}

interface ListeningClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Array<{ delivered: number; error: string | null }> }>;
  on(event: 'notification' | 'error' | 'end', listener: (...args: unknown[]) => void): void;
  end(): Promise<void>;
}

async function newClient(connection: string | Record<string, unknown>): Promise<ListeningClient> {
  return (await newPgClient(connection, 'The outbox worker needs the pg package: npm install pg.')) as unknown as ListeningClient;
}

function positive(value: unknown, fallback: number, path: string): number {
  const number = value ?? fallback;
  if (typeof number !== 'number' || !Number.isFinite(number) || number <= 0) throw new InvalidOptionError(`${path} must be a positive number of milliseconds.`, path);
  return number;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Starts a worker that delivers outbox syncs: it drains every outbox, then sleeps until a
 * NOTIFY says changes were recorded (or the poll interval passes). While the other side is
 * down, it retries with exponential backoff; a lost connection is reopened the same way.
 * Changes are never lost by the worker: a batch leaves the outbox only in the transaction
 * that delivered it.
 *
 * @example
 * const worker = startOutboxWorker({ connection: process.env.APP_DATABASE_URL!, syncs: [productsToLegacy], handleSignals: true });
 * await worker.stopped;
 */
export function startOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
  if (!Array.isArray(options?.syncs) || options.syncs.length === 0) {
    throw new InvalidOptionError('startOutboxWorker needs syncs: the syncTrigger nodes made with delivery: \'outbox\'.', 'syncs');
  }
  const outboxes: OutboxNames[] = options.syncs.map(outboxNames);
  const batchSize = checkBatchSize(options.batchSize, 'startOutboxWorker batchSize');
  const pollIntervalMs = positive(options.pollIntervalMs, 30_000, 'pollIntervalMs');
  const retry = backoff(positive(options.retry?.initialMs, 500, 'retry.initialMs'), positive(options.retry?.maxMs, 30_000, 'retry.maxMs'));
  const emit = (event: OutboxWorkerEvent) => options.onEvent?.(event);
  const sleep = wakeableSleep();
  let stopping = false;
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
        let rows;
        try {
          ({ rows } = await client.query(drainStatement(names), [batchSize]));
        } catch (error) {
          // On a live connection this is the other side failing at commit: a delivery failure.
          if (lost) throw error;
          throw Object.assign(new Error(message(error)), { sync: names.label, delivery: true });
        }
        const { delivered, error } = rows[0]!;
        if (delivered > 0) {
          allEmpty = false;
          emit({ type: 'delivered', sync: names.label, count: delivered });
        }
        if (error !== null) throw Object.assign(new Error(error), { sync: names.label, delivery: true });
        if (delivered < batchSize || stopping) break;
      }
    }
    if (allEmpty) {
      idleWaiters.filter((waiter) => waiter.after < number).forEach((waiter) => waiter.resolve());
      idleWaiters = idleWaiters.filter((waiter) => waiter.after >= number);
    }
    return allEmpty;
  }

  async function connected(): Promise<ListeningClient> {
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
    await client.connect();
    for (const names of outboxes) await client.query(previewSql(sql`LISTEN ${ident(names.channel)}`));
    return client;
  }

  async function run(): Promise<void> {
    while (!stopping) {
      let client: ListeningClient | undefined;
      try {
        client = await connected();
        emit({ type: 'connected' });
        retry.reset();
        while (!stopping) {
          try {
            const empty = await pass(client);
            retry.reset();
            if (lost) throw new Error('The connection to the database was lost.');
            // Changes may have been recorded while delivering: look again before sleeping.
            if (empty) await sleep.wait(pollIntervalMs);
          } catch (error) {
            if (!(error as { delivery?: boolean }).delivery) throw error;
            const retryInMs = retry.delay();
            emit({ type: 'failed', sync: (error as { sync: string }).sync, error: message(error), retryInMs });
            await sleep.wait(retryInMs);
          }
        }
      } catch (error) {
        if (stopping) break;
        // The connection is gone (or a drain failed at commit): start over on a new one.
        const retryInMs = retry.delay();
        emit({ type: 'disconnected', error: message(error), retryInMs });
        await client?.end().catch(() => undefined);
        client = undefined;
        await sleep.wait(retryInMs);
      } finally {
        await client?.end().catch(() => undefined);
      }
    }
  }

  const onSignal = () => void worker.stop();
  if (options.handleSignals) {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  const stopped = run().finally(() => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    idleWaiters.forEach((waiter) => waiter.reject(new Error('The outbox worker stopped before its outboxes were empty.')));
    idleWaiters = [];
    emit({ type: 'stopped' });
  });
  const worker: OutboxWorker = {
    stopped,
    async stop() {
      stopping = true;
      sleep.wake();
      await stopped;
    },
    idle() {
      const waiting = new Promise<void>((resolve, reject) => idleWaiters.push({ after: passes, resolve, reject }));
      sleep.wake();
      return waiting;
    },
  };
  return worker;
}
