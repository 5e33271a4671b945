import {
  dollarQuoted,
  formatted,
  ident,
  join,
  literal,
  qualified,
  raiseException,
  sql,
  type Fragment,
} from '../../../sql/index.js';
import { fireAlways } from '../../trigger-guards.js';
import type { ConflictPolicy } from '../sync-conflicts.js';
import { CONFLICT_LOG_COMMENT, conflictObjects, outboxObjects } from '../sync-names.js';
import type { IgnoreWrites, OutboxSyncNode } from '../sync-trigger-node.js';
import { drainLockKeys, outboxKeys, removeEntries } from './sync-outbox-entries.js';
import { destinationLabel, displayName, requiredLocalKey } from './sync-sender-sql.js';

const bool = (value: boolean): Fragment => (value ? sql`true` : sql`false`);

/** The trigger's WHEN: the write comes from the other side's sync (the same test as the capture's guard). */
function fromOtherSide(ignore: IgnoreWrites): Fragment {
  return 'role' in ignore
    ? sql`SESSION_USER = ${literal(ignore.role)}`
    : sql`pg_catalog.current_setting('application_name') = ${literal(ignore.applicationName)}`;
}

/**
 * Whether the other side's version wins, in PL/pgSQL, in the trigger's UPDATE branch, where both
 * versions exist: `OLD` is this side's row, `NEW` the other side's.
 */
function otherWinsOverRow(policy: ConflictPolicy): Fragment {
  const otherWinsTies = bool(policy.winner === policy.otherSide);
  if (policy.rule === 'winner' || policy.column === undefined) return otherWinsTies;
  const column = ident(policy.column);
  return sql`CASE WHEN NEW.${column} IS NOT DISTINCT FROM OLD.${column} THEN ${otherWinsTies}
      WHEN OLD.${column} IS NULL THEN true WHEN NEW.${column} IS NULL THEN false
      ELSE NEW.${column} > OLD.${column} END`;
}

/**
 * Two-way outbox conflicts, settled where the other side's drain writes: a BEFORE ROW trigger on
 * the synced table, for the other side's sync only, finds a key that this side's outbox still
 * holds (changed here since this side last delivered it). The policy picks a winner: when it is
 * the other side, its write goes on and this side's pending changes of the key are dropped (they
 * must not travel back); when it is this side, the write is skipped and this side's outbox
 * delivers its version. Either way the conflict is logged with both versions. A trigger, not a
 * step of one apply statement, so it holds whichever statement the endpoint applies rows with.
 */
export function renderConflicts(node: OutboxSyncNode): { up: Fragment[]; down: Fragment[] } {
  const policy = node.conflicts;
  if (policy === undefined || node.ignoreWritesBy === undefined) return { up: [], down: [] };
  const objects = conflictObjects(node.table, node.server);
  const outbox = qualified(outboxObjects(node.table, node.server).outbox);
  const table = qualified(node.table);
  const log = qualified(objects.log);
  const keyNames = requiredLocalKey(node, "delivery 'outbox'");
  const keys = outboxKeys(node);
  // The key of the row written, whichever the operation: NEW's, or OLD's for a delete.
  const keyVars = keys.map((_, index) => ident(`pg_sync_key_${index + 1}`));
  // The outbox keeps a statement's keys as arrays: the GIN index finds the rows holding the key,
  // the positions of its first column's value (array_positions, in C) say exactly which
  // entries, once the other columns match there too. Unnesting each found row instead cost one
  // set-returning scan of its 1,000 keys per row the other side wrote.
  const [firstKey, ...otherKeys] = keys.map((key, index) => ({ key, value: keyVars[index]! }));
  const entriesOfKey = sql`${outbox} AS o, pg_catalog.unnest(pg_catalog.array_positions(o.${firstKey!.key}, ${firstKey!.value})) AS u(pg_sync_ord)
      WHERE ${join(
        keys.map((key, index) => sql`o.${key} @> ARRAY[${keyVars[index]!}]`),
        ' AND ',
      )}${join(
        otherKeys.map(({ key, value }) => sql` AND o.${key}[u.pg_sync_ord] = ${value}`),
        '',
      )}`;
  const dropPending = sql`SELECT pg_catalog.array_agg(o.pg_sync_seq), pg_catalog.array_agg(u.pg_sync_ord) INTO pending_seqs, pending_ords
      FROM ${entriesOfKey};
    ${join(
      removeEntries(outbox, keys, sql`pending_seqs`, sql`pending_ords`).map((statement) => sql`${statement};`),
      '\n    ',
    )}`;
  const takeKey = (row: Fragment) =>
    join(
      keys.map((key, index) => sql`${keyVars[index]!} := ${row}.${key};`),
      ' ',
    );
  const keyJson = sql`pg_catalog.jsonb_build_object(${join(keyNames.map((key, index) => sql`${literal(key)}, ${keyVars[index]!}`))})`;
  const label = literal(`${displayName(node.table)} to ${destinationLabel(node.remote, node.server)}`);
  // A delete carries no column to compare: under 'latest', the change beats the delete.
  const otherWinsOverDelete = bool(policy.rule === 'winner' ? policy.winner === policy.otherSide : true);
  const otherDeleteWins = bool(policy.rule === 'winner' ? policy.winner === policy.otherSide : false);

  // This side's drain lock, tried, never waited for: this side's drain may be delivering the
  // same key right now, and waiting for it here could close a wait cycle across the two servers.
  const [lockClass, lockObject] = drainLockKeys(node);
  const drainIdle = sql`pg_catalog.pg_try_advisory_xact_lock(${lockClass}, ${lockObject})`;

  const resolve = sql`CREATE FUNCTION ${qualified(objects.resolve)}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_seqscan = off AS ${dollarQuoted(sql`
DECLARE
  ${join(
    keys.map((key, index) => sql`${keyVars[index]!} ${table}.${key}%TYPE;`),
    '\n  ',
  )}
  this_version jsonb;
  other_version jsonb;
  other_wins boolean;
  pending_seqs bigint[];
  pending_ords bigint[];
BEGIN
  IF TG_OP = 'DELETE' THEN
    ${takeKey(sql`OLD`)}
  ELSE
    ${takeKey(sql`NEW`)}
  END IF;
  -- A key this side's outbox still holds was changed here since it was last delivered.
  PERFORM 1 FROM ${entriesOfKey} LIMIT 1;
  IF NOT FOUND THEN
    IF TG_OP = 'DELETE' THEN
      RETURN OLD;
    END IF;
    RETURN NEW;
  END IF;
  IF TG_OP = 'DELETE' THEN
    -- Changed here, deleted there.
    this_version := pg_catalog.to_jsonb(OLD);
    other_wins := ${otherDeleteWins};
  ELSIF TG_OP = 'UPDATE' THEN
    this_version := pg_catalog.to_jsonb(OLD);
    other_version := pg_catalog.to_jsonb(NEW);
    IF this_version = other_version THEN
      -- The same change on both sides: nothing to settle, and nothing to send back.
      IF ${drainIdle} THEN
        ${dropPending}
      END IF;
      RETURN NEW;
    END IF;
    other_wins := ${otherWinsOverRow(policy)};
  ELSE
    IF EXISTS (SELECT 1 FROM ${table} AS t WHERE ${join(
      keys.map((key, index) => sql`t.${key} = ${keyVars[index]!}`),
      ' AND ',
    )}) THEN
      -- The upsert's UPDATE settles it, with both versions at hand.
      RETURN NEW;
    END IF;
    -- Deleted here, changed there.
    other_version := pg_catalog.to_jsonb(NEW);
    other_wins := ${otherWinsOverDelete};
  END IF;
  IF other_wins AND NOT ${drainIdle} THEN
    -- Its superseded changes cannot be dropped while this side's drain holds them: nothing is
    -- applied, and the other side's drain retries the batch (an unreachable side, not a refused row).
    ${raiseException({
      errcode: 'lock_not_available',
      message: formatted(
        'pg-sync-link: conflict on key %s of %s not settled yet: this side is delivering its own changes right now',
        keyJson,
        label,
      ),
      hint: "The other side's drain tries the batch again; nothing was applied.",
    })}
  END IF;
  INSERT INTO ${log} (sync, key, this_side, this_version, other_side, other_version, winner, policy)
    VALUES (${label}, ${keyJson}, ${literal(policy.thisSide)}, this_version, ${literal(policy.otherSide)}, other_version,
      CASE WHEN other_wins THEN ${literal(policy.otherSide)} ELSE ${literal(policy.thisSide)} END, ${literal(policy.text)});
  IF NOT other_wins THEN
    -- This side's version stands; its outbox still holds the key and delivers it.
    RETURN NULL;
  END IF;
  -- The other side's version stands: this side's superseded changes must not travel back.
  ${dropPending}
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
`)}`;

  return {
    up: [
      // The trigger looks a key up in the outbox for every row the other side writes. An outbox
      // has few rows of many keys each: a scan of it costs every key of every row, so the
      // function turns scans off, and the index takes keys at once (a pending list is scanned).
      sql`CREATE INDEX ON ${outbox} USING gin (${join(keys)}) WITH (fastupdate = off)`,
      sql`CREATE TABLE ${log} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  detected_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  sync text NOT NULL,
  key jsonb NOT NULL,
  this_side text NOT NULL,
  this_version jsonb,
  other_side text NOT NULL,
  other_version jsonb,
  winner text NOT NULL,
  policy text NOT NULL
)`,
      sql`COMMENT ON TABLE ${log} IS ${literal(`${CONFLICT_LOG_COMMENT} of ${displayName(node.table)} to ${destinationLabel(node.remote, node.server)}`)}`,
      resolve,
      sql`CREATE TRIGGER ${ident(objects.trigger)} BEFORE INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW WHEN (${fromOtherSide(node.ignoreWritesBy)}) EXECUTE FUNCTION ${qualified(objects.resolve)}()`,
      fireAlways(node.table, objects.trigger),
    ],
    down: [
      sql`DROP TRIGGER ${ident(objects.trigger)} ON ${table}`,
      sql`DROP FUNCTION ${qualified(objects.resolve)}()`,
      sql`DROP TABLE ${log}`,
    ],
  };
}
