import { ident, join, literal, qualified, sql, type Fragment } from '../../../sql/index.js';
import { senderObjects } from '../sync-names.js';
import { keyColumnsOf, requiredLocalKey, senderFunction, triggerList, valueOf } from './sync-sender-sql.js';
import type { WriteThroughSyncNode } from '../sync-trigger-node.js';
import { andMatching, matchingRows, whereMatching } from '../sync-filter.js';

/**
 * Commit timing (a deferred trigger, for rows that read later writes): statement triggers only
 * note which keys changed, in a temporary table of the session; a deferred constraint trigger
 * sends the rows as they are at commit, so they may depend on rows written later in the same
 * transaction. The deferred trigger fires once per changed row; the first call sends everything
 * and empties the list, the others find it empty.
 */
export function renderAtCommit(node: WriteThroughSyncNode): {
  fn: Fragment;
  triggers: { up: Fragment[]; down: Fragment[] };
} {
  const objects = senderObjects(node.table, node.server);
  const table = qualified(node.table);
  const pending = sql`pg_temp.${ident(objects.pending)}`;
  const keyColumns = keyColumnsOf(node);
  const localKeys = requiredLocalKey(node, "timing 'commit'").map((name) => ident(name));
  const localKeyList = join(localKeys);
  const remoteKeyList = join(keyColumns.map((column) => ident(column.remote)));
  const pendingKeyList = join(localKeys.map((key) => sql`p.${key}`));
  const sameKey = join(
    localKeys.map((key) => sql`t.${key} = p.${key}`),
    ' AND ',
  );
  // Only keys whose row matched the filter in some version are noted: the others were never sent.
  const matching = whereMatching(node.where);
  const record = (transition: Fragment) => sql`
      IF pg_catalog.to_regclass(${literal(`pg_temp.${objects.pending}`)}) IS NULL THEN
        CREATE TEMPORARY TABLE ${ident(objects.pending)} ON COMMIT DELETE ROWS AS SELECT ${localKeyList} FROM ${table} WHERE false;
      END IF;
      INSERT INTO ${pending} (${localKeyList}) SELECT ${localKeyList} FROM ${transition} AS src${matching};`;
  const fn = senderFunction(
    node,
    sql`
    WHEN 'record_new' THEN${record(sql`pg_sync_new`)}
    WHEN 'record_old' THEN${record(sql`pg_sync_old`)}
    WHEN 'record_both' THEN${record(sql`pg_sync_old`)}
      INSERT INTO ${pending} (${localKeyList}) SELECT ${localKeyList} FROM pg_sync_new AS src${matching};
    WHEN 'flush' THEN
      IF pg_catalog.to_regclass(${literal(`pg_temp.${objects.pending}`)}) IS NULL OR NOT EXISTS (SELECT 1 FROM ${pending}) THEN
        RETURN NULL;
      END IF;
      -- Keys no longer here (deleted or moved in this transaction), or whose row no longer matches.
      INSERT INTO ${qualified(objects.deleteTable)} (${remoteKeyList})
        SELECT DISTINCT ${pendingKeyList} FROM ${pending} AS p
        WHERE NOT EXISTS (SELECT 1 FROM ${matchingRows(node.table, node.where)} AS t WHERE ${sameKey});
      INSERT INTO ${qualified(objects.upsertTable)} (${join(node.columns.map((column) => ident(column.remote)))})
        SELECT ${join(node.columns.map(valueOf))} FROM ${table} AS src
        WHERE (${join(localKeys.map((key) => sql`src.${key}`))}) IN (SELECT ${pendingKeyList} FROM ${pending} AS p)${andMatching(node.where)};
      DELETE FROM ${pending};`,
  );

  const call = (mode: string) => sql`EXECUTE FUNCTION ${qualified(objects.function)}(${literal(mode)})`;
  const triggers = triggerList(node);
  const events: Fragment[] = [];
  if (node.operations.includes('insert')) {
    triggers.add(
      'insert',
      sql`AFTER INSERT ON ${table} REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('record_new')}`,
    );
    events.push(sql`INSERT`);
  }
  if (node.operations.includes('update')) {
    triggers.add(
      'update',
      sql`AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS pg_sync_old NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('record_both')}`,
    );
    events.push(sql`UPDATE`);
  }
  if (node.operations.includes('delete')) {
    triggers.add(
      'delete',
      sql`AFTER DELETE ON ${table} REFERENCING OLD TABLE AS pg_sync_old FOR EACH STATEMENT ${call('record_old')}`,
    );
    events.push(sql`DELETE`);
  }
  triggers.add(
    'commit',
    sql`AFTER ${join(events, ' OR ')} ON ${table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW ${call('flush')}`,
    true,
  );
  return { fn, triggers };
}
