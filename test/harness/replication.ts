import type pg from 'pg';
import { env, publication, replicationSlot, subscription, type SubscriptionOptions } from '../../src/index.js';
import type { PgServer } from './server.js';
import { randomBytes } from 'node:crypto';

/** Server settings logical replication needs (only the test files that use it pay for them). */
export const LOGICAL_REPLICATION = { settings: ['wal_level=logical'] } as const;

/** A replication slot name no other test uses: slots are cluster-wide, databases are not. */
export function uniqueSlot(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/**
 * Polls `read` until `done` holds for its result, or fails after `timeoutMs` with the last
 * value seen: replication is asynchronous, so tests wait for it, but never without a bound.
 */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

/** The rows of a table as plain data, ordered, for comparing both sides. */
export async function tableRows(client: pg.Client, table: string, order = 'id'): Promise<unknown[]> {
  return (await client.query(`SELECT * FROM ${table} ORDER BY ${order}`)).rows;
}

export async function slotNames(client: pg.Client): Promise<string[]> {
  return (await client.query<{ slot_name: string }>('SELECT slot_name FROM pg_replication_slots ORDER BY 1')).rows.map(
    (row) => row.slot_name,
  );
}

/**
 * The `notes` replication the logical-replication tests share: subscription `notes_sub` to
 * publication `notes_pub` on `publisher`, its password from the environment variable `variable`.
 */
export function notesSubscription(
  publisher: PgServer,
  dbname: string,
  variable: string,
  slot: string,
  extra: Partial<SubscriptionOptions> = {},
) {
  return subscription({
    name: 'notes_sub',
    host: publisher.peerHost,
    port: publisher.peerPort,
    dbname,
    user: publisher.user,
    password: env(variable),
    publications: ['notes_pub'],
    slotName: slot,
    ...extra,
  });
}

/** The publisher's side of that replication: publication `notes_pub` of `tables`, and the slot. */
export const notesPublisherSide = (slot: string, tables: readonly string[] = ['notes']) => [
  publication({ name: 'notes_pub', tables: [...tables] }),
  replicationSlot({ name: slot }),
];
