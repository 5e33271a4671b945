import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { PgServer } from './server.js';

/** How long a logged statement may take to reach the log we read (a container's streams it). */
const LOG_WAIT_MS = 15_000;

/**
 * The server log written from now until the end of `action`. A server's log reaches us through
 * a stream (a container's output above all), so reading it right after a statement can miss
 * that statement: a marker statement is logged after the action, and the log is read once the
 * marker is in it. Needs `log_statement = 'all'` on the server.
 */
export async function logDuring(server: PgServer, client: pg.Client, action: () => Promise<void>): Promise<string> {
  const log = server.log;
  if (!log) throw new Error(`${server.label} does not give its log`);
  const start = log().length;
  await action();
  await logMarked(server, client);
  return log().slice(start);
}

/** Logs a marker statement through `client` and waits until the server log shows it. */
export async function logMarked(server: PgServer, client: pg.Client): Promise<string> {
  const log = server.log;
  if (!log) throw new Error(`${server.label} does not give its log`);
  const marker = `log-marker-${randomBytes(4).toString('hex')}`;
  await client.query(`SELECT '${marker}'`);
  const deadline = Date.now() + LOG_WAIT_MS;
  while (!log().includes(marker)) {
    if (Date.now() > deadline)
      throw new Error(`${server.label}: the marker statement did not reach the log in ${LOG_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return log();
}
