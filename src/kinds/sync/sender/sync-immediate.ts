import { ident, join, literal, qualified, sql, type Fragment } from '../../../sql/index.js';
import { senderObjects } from '../sync-names.js';
import { keyColumnsOf, localKeyOf, senderFunction, triggerList, valueOf } from './sync-sender-sql.js';
import type { SyncTriggerNode } from '../sync-trigger-node.js';
import { whereMatching } from '../sync-filter.js';

/**
 * Immediate timing: statement-level triggers send each statement's rows when it ends, read
 * from its transition tables, so a bulk statement costs a few batched round trips, not one
 * per row.
 */
export function renderImmediate(node: SyncTriggerNode): {
  fn: Fragment;
  triggers: { up: Fragment[]; down: Fragment[] };
} {
  const objects = senderObjects(node.table, node.server);
  const remoteColumns = join(node.columns.map((column) => ident(column.remote)));
  const values = join(node.columns.map(valueOf));
  const keyColumns = keyColumnsOf(node);
  const keyNames = join(keyColumns.map((column) => ident(column.remote)));
  const keyValues = join(keyColumns.map(valueOf));
  const upsert = qualified(objects.upsertTable);
  const remove = qualified(objects.deleteTable);
  const matching = whereMatching(node.where);
  // A statement none of whose rows match never reaches the other side (not even to connect).
  const unlessMatching = (...transitions: string[]) =>
    node.where === undefined
      ? sql``
      : sql`
      IF NOT (${join(
        transitions.map((transition) => sql`EXISTS (SELECT 1 FROM ${ident(transition)} AS src${matching})`),
        ' OR ',
      )}) THEN
        RETURN NULL;
      END IF;`;
  const keysOf = (transition: string) => sql`SELECT ${keyValues} FROM ${ident(transition)} AS src${matching}`;
  const fn = senderFunction(
    node,
    sql`
    WHEN 'upsert' THEN${unlessMatching('pg_sync_new')}
      INSERT INTO ${upsert} (${remoteColumns}) SELECT ${values} FROM pg_sync_new AS src${matching};
    WHEN 'delete' THEN${unlessMatching('pg_sync_old')}
      INSERT INTO ${remove} (${keyNames}) ${keysOf('pg_sync_old')};
    WHEN 'moved' THEN
      -- A row's key changed: its old key is gone here, so it goes there too. Row triggers
      -- fire before statement triggers, so the statement's upserts come after these deletes.
      INSERT INTO ${remove} (${keyNames}) SELECT ${keyValues} FROM (SELECT OLD.*) AS src;
    WHEN 'vanished' THEN
      -- Keys an UPDATE moved away from: gone on this side, so gone on the other.
      INSERT INTO ${remove} (${keyNames})
        ${keysOf('pg_sync_old')} EXCEPT ${keysOf('pg_sync_new')};
    WHEN 'filtered_update' THEN
      -- With a filter: keys that moved away or stopped matching are deleted there first,
      -- then the rows that match now are sent (the same order as moved keys without one).${unlessMatching('pg_sync_old', 'pg_sync_new')}
      INSERT INTO ${remove} (${keyNames})
        ${keysOf('pg_sync_old')} EXCEPT ${keysOf('pg_sync_new')};
      INSERT INTO ${upsert} (${remoteColumns}) SELECT ${values} FROM pg_sync_new AS src${matching};`,
  );

  const table = qualified(node.table);
  const call = (mode: string) => sql`EXECUTE FUNCTION ${qualified(objects.function)}(${literal(mode)})`;
  const triggers = triggerList(node);
  if (node.operations.includes('insert')) {
    triggers.add(
      'insert',
      sql`AFTER INSERT ON ${table} REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('upsert')}`,
    );
  }
  if (node.operations.includes('update') && node.where !== undefined) {
    // One statement trigger sees both versions of each row: was it sent, is it sent now.
    triggers.add(
      'update',
      sql`AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS pg_sync_old NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('filtered_update')}`,
    );
  } else if (node.operations.includes('update')) {
    triggers.add(
      'update',
      sql`AFTER UPDATE ON ${table} REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('upsert')}`,
    );
    const localKey = localKeyOf(node);
    if (localKey) {
      // Plain key columns: only rows whose key really changed fire this, one by one (rare).
      const columns = localKey.map((name) => ident(name));
      const changed = join(
        columns.map((column) => sql`OLD.${column} IS DISTINCT FROM NEW.${column}`),
        ' OR ',
      );
      triggers.add(
        'update_key',
        sql`AFTER UPDATE OF ${join(columns)} ON ${table} FOR EACH ROW WHEN (${changed}) ${call('moved')}`,
      );
    } else {
      // Computed keys: compare the statement's old and new keys as sets.
      triggers.add(
        'update_key',
        sql`AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS pg_sync_old NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('vanished')}`,
      );
    }
  }
  if (node.operations.includes('delete')) {
    triggers.add(
      'delete',
      sql`AFTER DELETE ON ${table} REFERENCING OLD TABLE AS pg_sync_old FOR EACH STATEMENT ${call('delete')}`,
    );
  }
  return { fn, triggers };
}
