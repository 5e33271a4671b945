import {
  dollarQuoted,
  formatted,
  ident,
  literal,
  qualified,
  raiseException,
  sql,
  type Fragment,
} from '../../../sql/index.js';
import { senderObjects } from '../sync-names.js';
import type { IgnoreWrites, SyncTriggerNode } from '../sync-trigger-node.js';
import { fireAlways, refuseTruncate, truncateTrigger } from '../../trigger-guards.js';
import { destinationLabel, displayName } from './sync-labels.js';

export { keyColumnsOf, localKeyOf, requiredLocalKey, valueOf } from './sync-key-values.js';
export { destinationLabel, displayName } from './sync-labels.js';
export { createForeignTables } from './sync-foreign-tables.js';

// The sending side's trigger function and triggers, shared by both timings and the outbox.

/** Returns early from a trigger for writes made by the other side's sync. */
export function ignoreGuard(ignore: IgnoreWrites | undefined): Fragment {
  if (ignore === undefined) return sql``;
  const test =
    'role' in ignore
      ? sql`SESSION_USER = ${literal(ignore.role)}`
      : sql`pg_catalog.current_setting('application_name') = ${literal(ignore.applicationName)}`;
  return sql`
  -- Written by the other side's sync: sending it back would loop.
  IF ${test} THEN
    RETURN NULL;
  END IF;`;
}

/**
 * Refuses an `ignoreWritesBy.role` that does not exist here: the guard would never match, and
 * every write the other side's sync makes here would be sent back to it.
 */
export function ignoredRoleCheck(node: SyncTriggerNode): Fragment | undefined {
  if (node.ignoreWritesBy === undefined || !('role' in node.ignoreWritesBy)) return undefined;
  const role = node.ignoreWritesBy.role;
  const what = `sync of ${displayName(node.table)} to server ${node.server}`;
  return sql`DO ${dollarQuoted(sql`
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${literal(role)}) THEN
    ${raiseException({
      errcode: 'undefined_object',
      message: `pg-sync-link: the ${what} ignores writes by role ${JSON.stringify(role)}, which does not exist here: the other side's writes would be sent back to it`,
      hint: "ignoreWritesBy.role names the role the other side's user mapping connects to this database as (its user option). Create that role first (syncRole), or correct the name.",
    })}
  END IF;
END
`)}`;
}

/**
 * The trigger function: `body` is a CASE over TG_ARGV[0]. It runs as its owner (so one user
 * mapping serves every role that writes the table) with a fixed search_path, skips the other
 * side's writes, and turns any failure into an error that names the sync.
 */
export function senderFunction(node: SyncTriggerNode, body: Fragment): Fragment {
  const objects = senderObjects(node.table, node.server);
  const what = literal(`${displayName(node.table)} to ${destinationLabel(node.remote, node.server)}`);
  return sql`CREATE FUNCTION ${qualified(objects.function)}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
DECLARE
  failure_detail text;
  failure_hint text;
BEGIN${refuseTruncateOf(node)}${ignoreGuard(node.ignoreWritesBy)}
  ${namingTheSync(
    what,
    'The local statement was rolled back with it; nothing was written on either side.',
    sql`CASE TG_ARGV[0]${body}
    END CASE;`,
  )}
  RETURN NULL;
END
`)}`;
}

/**
 * The block that does a sync trigger's work (`statements`), with the handler that raises any
 * error again with the sync named (`what`), keeping its SQLSTATE, detail and hint. Refusals and
 * guards go before it: they name the sync already, and a second prefix would only repeat it.
 * Needs failure_detail and failure_hint declared.
 */
export function namingTheSync(what: Fragment, defaultHint: string, statements: Fragment): Fragment {
  return sql`BEGIN
    ${statements}
  ${failedSync(what, defaultHint)}
  END;`;
}

/** The exception handler of namingTheSync(). */
function failedSync(what: Fragment, defaultHint: string): Fragment {
  // WHEN OTHERS does not catch a cancel: a statement_timeout that ends a wait for the other
  // server (frozen, unreachable, or holding a row in a cross-server lock wait) is named here.
  const message = formatted('pg-sync-link: %s not synced from %s: %s', sql`TG_OP`, what, sql`SQLERRM`);
  // The caught error's own hint when it has one, else ours.
  const hintOr = (fallback: string) => sql`COALESCE(NULLIF(failure_hint, ''), ${literal(fallback)})`;
  const again = (detail: Fragment | undefined, hint: Fragment) =>
    raiseException({ errcode: sql`SQLSTATE`, message, detail, hint });
  return sql`EXCEPTION WHEN query_canceled THEN
  ${again(
    undefined,
    literal(
      `The sync waited until this session's statement_timeout: the other server may be frozen or unreachable, or a row there is locked by a writer waiting for one here. Nothing was written on either side; retry the transaction. Give every writing role a statement_timeout and a lock_timeout (ALTER ROLE app SET statement_timeout = '30s'; ALTER ROLE app SET lock_timeout = '5s') so such waits end.`,
    ),
  )}
WHEN connection_exception THEN
  GET STACKED DIAGNOSTICS failure_detail = PG_EXCEPTION_DETAIL, failure_hint = PG_EXCEPTION_HINT;
  ${again(
    sql`failure_detail`,
    hintOr(
      `The other server could not be reached (down, frozen, or wrong connection settings; a timeout here is the link's connect_timeout). Nothing was written on either side; retry the transaction when it is back, or use delivery: 'outbox' to keep writing while it is away.`,
    ),
  )}
WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS failure_detail = PG_EXCEPTION_DETAIL, failure_hint = PG_EXCEPTION_HINT;
  ${again(sql`failure_detail`, hintOr(defaultHint))}`;
}

/** Refuses TRUNCATE of the synced table, naming the sync (first thing in its trigger function). */
export function refuseTruncateOf(node: SyncTriggerNode): Fragment {
  const objects = senderObjects(node.table, node.server);
  return refuseTruncate(
    `sync to ${destinationLabel(node.remote, node.server)}`,
    node.table,
    objects.trigger('truncate'),
  );
}

/**
 * Collects CREATE TRIGGER statements and their DROPs in reverse order. Every trigger fires
 * always (replica sessions too), and one more refuses TRUNCATE.
 */
export function triggerList(node: SyncTriggerNode) {
  const objects = senderObjects(node.table, node.server);
  const up: Fragment[] = [];
  const down: Fragment[] = [];
  const add = (event: Parameters<typeof objects.trigger>[0], definition: Fragment, constraint = false) => {
    const name = objects.trigger(event);
    up.push(
      sql`CREATE ${constraint ? sql`CONSTRAINT ` : sql``}TRIGGER ${ident(name)} ${definition}`,
      fireAlways(node.table, name),
    );
    down.unshift(sql`DROP TRIGGER ${ident(name)} ON ${qualified(node.table)}`);
  };
  add('truncate', truncateTrigger(node.table, objects.function));
  return { up, down, add };
}
