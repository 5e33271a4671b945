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

/** A POSIX regular expression (for `~` in a catalog query) matching every endpoint view name. */
export const ENDPOINT_VIEW_PATTERN = '__sync_(upsert|delete)_[0-9a-f]{8}$';

/**
 * An endpoint view's name read back: the table it writes to and the rule it carries
 * (`sync_upsert` or `sync_delete`); undefined for a name endpointViews does not derive.
 */
export function parseEndpointView(name: string): { table: string; rule: 'sync_upsert' | 'sync_delete' } | undefined {
  const match = /^(.+)__(sync_upsert|sync_delete)_[0-9a-f]{8}$/.exec(name);
  return match ? { table: match[1]!, rule: match[2] as 'sync_upsert' | 'sync_delete' } : undefined;
}

function shortHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 8);
}

/** The events a sender has a trigger for, each named `sync_to_<server>_<event>`. */
export const SENDER_TRIGGER_EVENTS = ['insert', 'update', 'update_key', 'delete', 'commit'] as const;

/** One of SENDER_TRIGGER_EVENTS. */
export type SenderTriggerEvent = (typeof SENDER_TRIGGER_EVENTS)[number];

/** The sender's trigger function, `<table>__sync_to_<server>`, unchecked (the doctor reads it from a catalog). */
export function senderFunctionName(table: string, server: string): string {
  return `${table}__sync_to_${server}`;
}

/** A sender's foreign table over the other side's endpoint, `<table>__sync_to_<server>_upsert` or `_delete`. */
export function senderTableName(table: string, server: string, which: 'upsert' | 'delete'): string {
  return `${senderFunctionName(table, server)}_${which}`;
}

/** A sender's trigger, `sync_to_<server>_<event>`. */
export function senderTriggerName(server: string, event: SenderTriggerEvent): string {
  return `sync_to_${server}_${event}`;
}

/**
 * The server a sender sends to, read back from its function and trigger names as found in a
 * catalog; undefined when they are not names senderObjects derives for `table`.
 */
export function senderServerOf(table: string, fn: string, trigger: string): string | undefined {
  const prefix = senderFunctionName(table, '');
  if (!fn.startsWith(prefix)) return undefined;
  const server = fn.slice(prefix.length);
  return SENDER_TRIGGER_EVENTS.some((event) => trigger === senderTriggerName(server, event)) ? server : undefined;
}

/** The objects on the sending side: the trigger function and the foreign tables over the endpoint. */
export function senderObjects(table: QualifiedName, server: string) {
  return {
    function: derived(table, senderFunctionName(table.name, server), 'sync trigger function'),
    upsertTable: derived(table, senderTableName(table.name, server, 'upsert'), 'sync foreign table'),
    deleteTable: derived(table, senderTableName(table.name, server, 'delete'), 'sync foreign table'),
    trigger: (event: SenderTriggerEvent) => checkName(senderTriggerName(server, event), 'sync trigger'),
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
    /** Keys the other side kept rejecting, set aside with their error and attempts. */
    failed: derived(table, `${table.name}__outbox_${server}_failed`, 'sync outbox failed table'),
    /** Puts set-aside keys back in the outbox. */
    retry: derived(table, `${table.name}__retry_${server}`, 'sync outbox retry function'),
    /** Drops set-aside keys (and their held later changes) without delivering them. */
    discard: derived(table, `${table.name}__discard_${server}`, 'sync outbox discard function'),
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
