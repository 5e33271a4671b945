import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { PgServer } from './server.js';

/** How long a logged statement may take to reach the log we read (a container's streams it). */
const LOG_WAIT_MS = 15_000;

/**
 * The server log written from now until the end of `action` (see logMarked). Needs
 * `log_statement = 'all'` on the server.
 */
export async function logDuring(server: PgServer, client: pg.Client, action: () => Promise<void>): Promise<string> {
  const start = server.log?.().length ?? 0;
  await action();
  return (await logMarked(server, client)).slice(start);
}

/**
 * The whole server log, once it is complete up to now. A server's log reaches us through a
 * stream (a container's output above all), so a read right after a statement can miss it: a
 * marker statement is logged through `client`, and the log is read once the marker is in it.
 */
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
