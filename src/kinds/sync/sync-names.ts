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
  const upsertHash = shortHash([...columns].sort());
  const deleteHash = shortHash([[...key].sort(), [...columns].sort()]);
  return fitFamily([table.name], ([name]) => ({
    upsert: derived(table, `${name}__sync_upsert_${upsertHash}`, 'sync endpoint view'),
    delete: derived(table, `${name}__sync_delete_${deleteHash}`, 'sync endpoint view'),
  }));
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
export const SENDER_TRIGGER_EVENTS = ['insert', 'update', 'update_key', 'delete', 'commit', 'truncate'] as const;

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
  const pending = `sync_pending_${shortHash([table.schema, table.name, server])}`;
  return fitFamily(
    [table.name, server],
    ([name, to]) => ({
      function: derived(table, senderFunctionName(name!, to!), 'sync trigger function'),
      upsertTable: derived(table, senderTableName(name!, to!, 'upsert'), 'sync foreign table'),
      deleteTable: derived(table, senderTableName(name!, to!, 'delete'), 'sync foreign table'),
      trigger: (event: SenderTriggerEvent) => checkName(senderTriggerName(to!, event), 'sync trigger'),
      /** The session's temporary table of keys changed in this transaction (commit timing). */
      pending,
    }),
    (objects) => SENDER_TRIGGER_EVENTS.map(objects.trigger),
  );
}

/** The objects of outbox delivery, next to the synced table. */
export function outboxObjects(table: QualifiedName, server: string) {
  const channel = `sync_outbox_${shortHash([table.schema, table.name, server])}`;
  return fitFamily([table.name, server], ([name, to]) => ({
    /** Keys changed and not yet delivered, in the order they were recorded. */
    outbox: derived(table, `${name}__outbox_${to}`, 'sync outbox table'),
    /** One row: when the last delivery succeeded or failed, and why. */
    status: derived(table, `${name}__outbox_${to}_status`, 'sync outbox status table'),
    lag: derived(table, `${name}__outbox_${to}_lag`, 'sync outbox lag view'),
    drain: derived(table, `${name}__drain_${to}`, 'sync outbox drain function'),
    /** Keys the other side kept rejecting, set aside with their error and attempts. */
    failed: derived(table, `${name}__outbox_${to}_failed`, 'sync outbox failed table'),
    /** Puts set-aside keys back in the outbox. */
    retry: derived(table, `${name}__retry_${to}`, 'sync outbox retry function'),
    /** Drops set-aside keys (and their held later changes) without delivering them. */
    discard: derived(table, `${name}__discard_${to}`, 'sync outbox discard function'),
    /** NOTIFY channel that wakes a drain worker when changes are recorded. */
    channel,
  }));
}

/**
 * The objects of a two-way outbox's conflict handling, next to the synced table: the log of
 * settled conflicts, the function that settles them and the trigger that calls it for the other
 * side's writes. A family of its own, so declaring a policy never renames the outbox's objects.
 */
export function conflictObjects(table: QualifiedName, server: string) {
  return fitFamily([table.name, server], ([name, from]) => ({
    /** Every conflict settled here: both versions, the winner, when. */
    log: derived(table, `${name}__conflicts_${from}`, 'sync conflict log table'),
    /** The BEFORE ROW trigger function that settles a conflict. */
    resolve: derived(table, `${name}__resolve_${from}`, 'sync conflict function'),
    /** The trigger on the synced table, firing for the other side's writes only. */
    trigger: checkName(conflictTriggerName(from!), 'sync conflict trigger'),
  }));
}

/** The trigger that settles conflicts on writes arriving from `server`: `sync_from_<server>_conflicts`. */
export function conflictTriggerName(server: string): string {
  return `sync_from_${server}_conflicts`;
}

/** The comment that marks a table as a conflict log (listConflicts and the doctor find them by it). */
export const CONFLICT_LOG_COMMENT = 'pg-sync-link conflict log';

const MAX_NAME_BYTES = 63;
const bytesOf = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * Builds a family of derived names from the user's names in `parts` (a table, a server...). When
 * every name fits in PostgreSQL's 63 bytes they are used as given, so existing objects keep their
 * names. Otherwise the longer parts are shortened, the same way in every name of the family, to
 * a prefix and a hash of the whole part (distinct parts stay distinct), until the longest fits.
 * `extra` lists names built that are not plain strings or QualifiedNames of the result.
 */
export function fitFamily<T extends object>(
  parts: readonly string[],
  build: (parts: readonly string[]) => T,
  extra: (built: T) => readonly string[] = () => [],
): T {
  const attempt = (candidate: readonly string[]) => {
    try {
      const built = build(candidate);
      const longest = Math.max(0, ...namesOf(built).map(bytesOf), ...extra(built).map(bytesOf));
      return longest <= MAX_NAME_BYTES ? built : longest;
    } catch (error) {
      if (error instanceof InvalidIdentifierError && /bytes long/.test(error.message)) return Infinity;
      throw error;
    }
  };
  const first = attempt(parts);
  if (typeof first !== 'number') return first;
  // Shrink the budget for the parts until the longest name fits (each step cuts at least a byte).
  let budget = parts.reduce((total, part) => total + bytesOf(part), 0);
  for (;;) {
    budget -= 1;
    const squeezed = squeezeParts(parts, budget);
    const result = attempt(squeezed);
    if (typeof result !== 'number') return result;
    if (budget <= parts.length * 10) return build(squeezed); // throws the InvalidIdentifierError that says why
  }
}

function namesOf(built: object): string[] {
  return Object.values(built).flatMap((value: unknown) =>
    typeof value === 'string'
      ? [value]
      : typeof value === 'object' && value !== null && 'name' in value && typeof value.name === 'string'
        ? [value.name]
        : [],
  );
}

/** Parts cut to share `budget` bytes: short parts keep their length, long ones get the rest evenly. */
function squeezeParts(parts: readonly string[], budget: number): string[] {
  const order = parts.map((_, index) => index).sort((a, b) => bytesOf(parts[a]!) - bytesOf(parts[b]!));
  const limit: number[] = [];
  let remaining = budget;
  order.forEach((index, position) => {
    const share = Math.floor(remaining / (order.length - position));
    limit[index] = Math.min(bytesOf(parts[index]!), share);
    remaining -= limit[index]!;
  });
  return parts.map((part, index) =>
    bytesOf(part) <= limit[index]! ? part : `${cutToBytes(part, Math.max(1, limit[index]! - 9))}_${shortHash(part)}`,
  );
}

/** The longest prefix of `text` that fits in `max` bytes, whole characters only. */
function cutToBytes(text: string, max: number): string {
  let cut = '';
  for (const character of text) {
    if (bytesOf(cut + character) > max) break;
    cut += character;
  }
  return cut;
}

/** A sync names its tables with their schema, `public` unless given. */
export function withSchema(name: QualifiedName): QualifiedName & { readonly schema: string } {
  return Object.freeze({ schema: name.schema ?? 'public', name: name.name });
}

function derived(table: QualifiedName, name: string, what: string): QualifiedName {
  return table.schema === undefined
    ? { name: checkName(name, what) }
    : { schema: table.schema, name: checkName(name, what) };
}

function checkName(name: string, what: string): string {
  try {
    return checkIdentifier(name, what);
  } catch (error) {
    if (error instanceof InvalidIdentifierError) {
      throw new InvalidIdentifierError(
        `${error.message} The name is derived from the table and server names; shorten one of them.`,
        what,
      );
    }
    throw error;
  }
}
