import {
  dollarQuoted,
  expression,
  ident,
  integer,
  join,
  literal,
  qualified,
  quoteQualifiedName,
  sql,
  type Fragment,
  type QualifiedName,
} from '../../../sql/index.js';
import { fireAlways, refuseTruncate, truncateTrigger } from '../../trigger-guards.js';
import {
  destinationLabel,
  displayName,
  namingTheSync,
  ignoreGuard,
  requiredLocalKey,
  valueOf,
} from '../sender/sync-sender-sql.js';
import { OUTBOX_CHUNK, outboxKeys } from '../sender/sync-outbox-entries.js';
import { outboxObjects, senderObjects, withSchema } from '../sync-names.js';
import type { SyncTriggerNode } from '../sync-trigger-node.js';
import { dependencyObjects, type DependencyTriggerEvent } from './dependency-names.js';
import type { SyncDependency } from './dependency-options.js';
import { andMatching } from '../sync-filter.js';

// A dependency's triggers sit on the table the sync's expressions read. Each statement there
// finds the synced rows that read a changed row (its `rows` condition, over the statement's
// transition tables) and hands them to the sync the way its own triggers would: sent at once,
// noted for commit, or recorded in the outbox.

/** The up and down statements of every dependency of a sync (none when it has none). */
export function renderDependencies(node: SyncTriggerNode): { up: Fragment[]; down: Fragment[] } {
  const up: Fragment[] = [];
  const down: Fragment[] = [];
  for (const dependency of node.dependsOn ?? []) {
    const rendered = renderDependency(node, dependency);
    up.push(...rendered.up);
    down.unshift(...rendered.down);
  }
  return { up, down };
}

function syncLabel(node: SyncTriggerNode): string {
  return `sync of ${displayName(node.table)} to ${destinationLabel(node.remote, node.server)}`;
}

/** The synced rows that read a row of `transition` (the dependency's changed rows, as `dep`). */
function readers(dependency: SyncDependency, transitions: readonly Fragment[]): Fragment {
  return join(
    transitions.map(
      (transition) => sql`EXISTS (SELECT 1 FROM ${transition} AS dep WHERE ${expression(dependency.rows)})`,
    ),
    ' OR ',
  );
}

/** What the dependency's trigger does with the synced rows that read the changed rows (those the sync's filter lets through). */
function handOver(node: SyncTriggerNode, which: Fragment): Fragment {
  const table = qualified(node.table);
  const sender = senderObjects(node.table, node.server);
  if (node.delivery === 'outbox') {
    // Recorded the way the sync's own triggers record keys: arrays, one outbox row per chunk.
    const keys = outboxKeys(node);
    const objects = outboxObjects(node.table, node.server);
    return sql`
      INSERT INTO ${qualified(objects.outbox)} (${join(keys)})
        SELECT ${join(keys.map((key) => sql`pg_catalog.array_agg(c.${key} ORDER BY c.pg_sync_n)`))}
        FROM (SELECT ${join(keys.map((key) => sql`src.${key}`))}, pg_catalog.row_number() OVER () AS pg_sync_n
              FROM ${table} AS src WHERE ${which}${andMatching(node.where)}) AS c
        GROUP BY (c.pg_sync_n - 1) / ${integer(OUTBOX_CHUNK)};
      IF FOUND THEN
        PERFORM pg_catalog.pg_notify(${literal(objects.channel)}, '');
      END IF;`;
  }
  if (node.timing === 'commit') {
    const names = requiredLocalKey(node, "timing 'commit'");
    const keys = join(names.map((name) => ident(name)));
    const srcKeys = join(names.map((name) => sql`src.${ident(name)}`));
    // The same session table the sync's own triggers note keys in; its deferred trigger sends them.
    return sql`
      IF pg_catalog.to_regclass(${literal(`pg_temp.${sender.pending}`)}) IS NULL THEN
        CREATE TEMPORARY TABLE ${ident(sender.pending)} ON COMMIT DELETE ROWS AS SELECT ${keys} FROM ${table} WHERE false;
      END IF;
      INSERT INTO pg_temp.${ident(sender.pending)} (${keys}) SELECT ${srcKeys} FROM ${table} AS src WHERE ${which}${andMatching(node.where)};`;
  }
  return sql`
      INSERT INTO ${qualified(sender.upsertTable)} (${join(node.columns.map((column) => ident(column.remote)))})
        SELECT ${join(node.columns.map(valueOf))} FROM ${table} AS src WHERE ${which}${andMatching(node.where)};`;
}

function renderDependency(node: SyncTriggerNode, dependency: SyncDependency): { up: Fragment[]; down: Fragment[] } {
  const objects = dependencyObjects(withSchema(node.table), node.server, dependency.table);
  const table = qualified(node.table);
  const depTable = qualified(dependency.table);
  const label = syncLabel(node);
  const depName = quoteQualifiedName(dependency.table);
  const what = literal(`${displayName(node.table)} to ${destinationLabel(node.remote, node.server)}`);
  const onDelete =
    dependency.onDelete === 'restrict'
      ? sql`
  IF TG_ARGV[0] = 'old' THEN
    SELECT pg_catalog.count(*) INTO readers FROM ${table} AS src WHERE ${readers(dependency, [sql`pg_sync_old`])};
    IF readers > 0 THEN
      RAISE EXCEPTION USING ERRCODE = 'restrict_violation',
        MESSAGE = pg_catalog.format(${literal(`pg-sync-link: DELETE from ${depName} refused: %s rows of ${displayName(node.table)} read the deleted rows, and the ${label} depends on ${depName} with onDelete 'restrict'`)}, readers),
        HINT = ${literal(`Point those rows elsewhere or delete them first (in an earlier statement), or declare onDelete: 'resend' to send them again with what they read now.`)};
    END IF;
  END IF;`
      : sql``;
  const fn = sql`CREATE FUNCTION ${qualified(objects.function)}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
DECLARE
  readers bigint;
  failure_detail text;
  failure_hint text;
BEGIN${refuseTruncate(`${label}, which reads it,`, dependency.table, objects.trigger('truncate'))}${onDelete}${ignoreGuard(node.ignoreWritesBy)}
  ${namingTheSync(
    what,
    `The change to ${depName} was sent as the synced rows that read it; it was rolled back with it, nothing was written on either side.`,
    sql`CASE TG_ARGV[0]
    WHEN 'new' THEN${handOver(node, readers(dependency, [sql`pg_sync_new`]))}
    WHEN 'both' THEN${handOver(node, readers(dependency, [sql`pg_sync_old`, sql`pg_sync_new`]))}
    WHEN 'old' THEN${handOver(node, readers(dependency, [sql`pg_sync_old`]))}
    END CASE;`,
  )}
  RETURN NULL;
END
`)}`;

  const call = (mode: string, fn: QualifiedName = objects.function) =>
    sql`EXECUTE FUNCTION ${qualified(fn)}(${literal(mode)})`;
  const up: Fragment[] = [setUpCheck(node, dependency), fn];
  const down: Fragment[] = [sql`DROP FUNCTION ${qualified(objects.function)}()`];
  const add = (event: DependencyTriggerEvent, definition: Fragment, constraint = false) => {
    const name = objects.trigger(event);
    up.push(
      sql`CREATE ${constraint ? sql`CONSTRAINT ` : sql``}TRIGGER ${ident(name)} ${definition}`,
      fireAlways(dependency.table, name),
    );
    down.unshift(sql`DROP TRIGGER ${ident(name)} ON ${depTable}`);
  };
  add('truncate', truncateTrigger(dependency.table, objects.function));
  add(
    'insert',
    sql`AFTER INSERT ON ${depTable} REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('new')}`,
  );
  add(
    'update',
    sql`AFTER UPDATE ON ${depTable} REFERENCING OLD TABLE AS pg_sync_old NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('both')}`,
  );
  add(
    'delete',
    sql`AFTER DELETE ON ${depTable} REFERENCING OLD TABLE AS pg_sync_old FOR EACH STATEMENT ${call('old')}`,
  );
  if (node.delivery === 'write-through' && node.timing === 'commit') {
    // The sync's own deferred trigger fires only for its table's rows: this one flushes at commit
    // the rows a dependency change noted, even when the synced table itself was not written.
    add(
      'commit',
      sql`AFTER INSERT OR UPDATE OR DELETE ON ${depTable} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW ${call('flush', senderObjects(node.table, node.server).function)}`,
      true,
    );
  }
  return { up, down };
}

/**
 * Proves at migration time that the dependency table exists and that `rows` is valid over it
 * (under the triggers' search_path), so a typo fails the migration naming the sync, not a write.
 */
function setUpCheck(node: SyncTriggerNode, dependency: SyncDependency): Fragment {
  const what = literal(`${syncLabel(node)} on ${quoteQualifiedName(dependency.table)}`);
  return sql`DO ${dollarQuoted(sql`
DECLARE
  saved_path text := pg_catalog.current_setting('search_path');
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  PERFORM 1 FROM ${qualified(node.table)} AS src, ${qualified(dependency.table)} AS dep WHERE ${expression(dependency.rows)} LIMIT 0;
  PERFORM pg_catalog.set_config('search_path', saved_path, true);
EXCEPTION WHEN OTHERS THEN
  RAISE EXCEPTION USING ERRCODE = SQLSTATE,
    MESSAGE = pg_catalog.format('pg-sync-link: cannot set up the dependency of the %s: %s', ${what}, SQLERRM),
    HINT = 'dependsOn names a local table the sync''s expressions read, and rows is a condition over the synced row src and that table''s row dep; it must schema-qualify any other table it reads.';
END
`)}`;
}
