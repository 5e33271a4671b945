import { createHash } from 'node:crypto';
import { InvalidIdentifierError } from '../../errors.js';
import { checkIdentifier, type QualifiedName } from '../../sql/index.js';

// Names of the objects a sync creates, derived in one place so both sides agree on them.

/**
 * The two views on the receiving side that take batched upserts and deletes. Their names carry
 * a short hash of the exact column set (and key; the delete view too, so each endpoint owns both), because an upsert sets every column its view
 * has: a sender that sends fewer columns than the view must never reach it, or the columns it
 * does not send would be set to NULL. Each column set has its own endpoint, so two versions of
 * a sync can run side by side while one replaces the other.
 */
export function endpointViews(
  table: QualifiedName,
  key: readonly string[],
  columns: readonly string[],
): { upsert: QualifiedName; delete: QualifiedName } {
  return {
    upsert: derived(table, `${table.name}__sync_upsert_${shortHash([...columns].sort())}`, 'sync endpoint view'),
    delete: derived(table, `${table.name}__sync_delete_${shortHash([[...key].sort(), [...columns].sort()])}`, 'sync endpoint view'),
  };
}

function shortHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 8);
}

/** The objects on the sending side: the trigger function and the foreign tables over the endpoint. */
export function senderObjects(table: QualifiedName, server: string) {
  return {
    function: derived(table, `${table.name}__sync_to_${server}`, 'sync trigger function'),
    upsertTable: derived(table, `${table.name}__sync_to_${server}_upsert`, 'sync foreign table'),
    deleteTable: derived(table, `${table.name}__sync_to_${server}_delete`, 'sync foreign table'),
    trigger: (event: 'insert' | 'update' | 'update_key' | 'delete' | 'commit') => checkName(`sync_to_${server}_${event}`, 'sync trigger'),
    /** The session's temporary table of keys changed in this transaction (commit timing). */
    pending: `sync_pending_${shortHash([table.schema, table.name, server])}`,
  };
}

/** The objects of outbox delivery, next to the synced table. */
export function outboxObjects(table: QualifiedName, server: string) {
  return {
    /** Keys changed and not yet delivered, in the order they were recorded. */
    outbox: derived(table, `${table.name}__outbox_${server}`, 'sync outbox table'),
    /** One row: when the last delivery succeeded or failed, and why. */
    status: derived(table, `${table.name}__outbox_${server}_status`, 'sync outbox status table'),
    lag: derived(table, `${table.name}__outbox_${server}_lag`, 'sync outbox lag view'),
    drain: derived(table, `${table.name}__drain_${server}`, 'sync outbox drain function'),
    /** NOTIFY channel that wakes a drain worker when changes are recorded. */
    channel: `sync_outbox_${shortHash([table.schema, table.name, server])}`,
  };
}

/** A sync names its tables with their schema, `public` unless given. */
export function withSchema(name: QualifiedName): QualifiedName & { readonly schema: string } {
  return Object.freeze({ schema: name.schema ?? 'public', name: name.name });
}

function derived(table: QualifiedName, name: string, what: string): QualifiedName {
  return table.schema === undefined ? { name: checkName(name, what) } : { schema: table.schema, name: checkName(name, what) };
}

function checkName(name: string, what: string): string {
  try {
    return checkIdentifier(name, what);
  } catch (error) {
    if (error instanceof InvalidIdentifierError) {
      throw new InvalidIdentifierError(`${error.message} The name is derived from the table and server names; shorten one of them.`, what);
    }
    throw error;
  }
}
