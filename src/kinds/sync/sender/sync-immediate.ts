import { ident, join, literal, qualified, sql, type Fragment } from '../../../sql/index.js';
import { senderObjects } from '../sync-names.js';
import { keyColumnsOf, localKeyOf, senderFunction, triggerList, valueOf } from './sync-sender-sql.js';
import type { SyncTriggerNode } from '../sync-trigger-node.js';

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
  const fn = senderFunction(
    node,
    sql`
    WHEN 'upsert' THEN
      INSERT INTO ${upsert} (${remoteColumns}) SELECT ${values} FROM pg_sync_new AS src;
    WHEN 'delete' THEN
      INSERT INTO ${remove} (${keyNames}) SELECT ${keyValues} FROM pg_sync_old AS src;
    WHEN 'moved' THEN
      -- A row's key changed: its old key is gone here, so it goes there too. Row triggers
      -- fire before statement triggers, so the statement's upserts come after these deletes.
      INSERT INTO ${remove} (${keyNames}) SELECT ${keyValues} FROM (SELECT OLD.*) AS src;
    WHEN 'vanished' THEN
      -- Keys an UPDATE moved away from: gone on this side, so gone on the other.
      INSERT INTO ${remove} (${keyNames})
        SELECT ${keyValues} FROM pg_sync_old AS src EXCEPT SELECT ${keyValues} FROM pg_sync_new AS src;`,
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
  if (node.operations.includes('update')) {
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
