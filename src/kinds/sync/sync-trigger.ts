import { InvalidOptionError } from '../../errors.js';
import { checkObject } from '../../spec/object.js';
import {
  checkIdentifier,
  checkQualifiedName,
  qualified,
  sql,
  type Fragment,
  type QualifiedName,
  type SqlExpression,
} from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import type { KindDefinition } from '../kind.js';
import { renderAtCommit } from './sender/sync-at-commit.js';
import { checkSyncColumns, type SyncColumnOptions } from './sync-columns.js';
import { checkRowFilter, rowFilterCheck } from './sync-filter.js';
import { checkIgnore } from './sync-ignore-writes.js';
import { renderImmediate } from './sender/sync-immediate.js';
import { createForeignTables, displayName, ignoredRoleCheck } from './sender/sync-sender-sql.js';
import { conflictObjects, endpointViews, outboxObjects, senderObjects, withSchema } from './sync-names.js';
import { renderOutbox } from './sender/sync-outbox.js';
import { localSync, type LocalSyncNode, type LocalSyncOptions } from './sync-local.js';
import { checkOperations, type SyncOperation } from './sync-operations.js';
import { checkDependencies, type SyncDependencyOptions } from './dependencies/dependency-options.js';
import { renderDependencies } from './dependencies/dependency-sql.js';
import { checkConflictPolicy, type ConflictPolicyOptions } from './sync-conflicts.js';
import type { IgnoreWrites, SyncDelivery, SyncTiming, SyncTriggerNode } from './sync-trigger-node.js';

export type {
  IgnoreWrites,
  OutboxSyncNode,
  SyncDelivery,
  SyncTiming,
  SyncTriggerNode,
  WriteThroughSyncNode,
} from './sync-trigger-node.js';

/** What syncTrigger() takes for a sync to another database, through a link. */
export interface SyncTriggerOptions {
  /** The link (foreign server) the changes go through. */
  readonly server: string;
  /** The local table whose changes are sent. */
  readonly table: string | QualifiedName;
  /** The remote table that receives them (its sync endpoint must be installed there); defaults to public and the local name. */
  readonly remote?: {
    /** The remote schema (default public). */
    readonly schema?: string;
    /** The remote table's name (default the local name). */
    readonly name?: string;
  };
  /** Remote key columns: how a row is found on the other side. */
  readonly key: readonly string[];
  /** Remote columns and where their values come from; see SyncColumnOptions. */
  readonly columns: readonly SyncColumnOptions[];
  /** Which changes to send; all three by default. */
  readonly operations?: readonly SyncOperation[];
  /**
   * Skip changes made by the other side's sync: the role its user mapping connects as
   * (preferred: no client can pretend to be it without its password), or the
   * application_name its server sets (any client can set it, and would skip sync silently).
   */
  readonly ignoreWritesBy?: IgnoreWrites;
  /** Rows per round trip to the other side (postgres_fdw batch_size); default 1000. */
  readonly batchSize?: number;
  /**
   * `immediate` (default): each statement's rows are sent when the statement ends.
   * `commit`: rows are sent as they are at commit, so computed columns may read rows written
   * later in the same transaction; needs key columns that are plain local columns.
   */
  readonly timing?: SyncTiming;
  /**
   * `write-through` (default): the other side is written in the writer's transaction, and a
   * write fails when it cannot be. `outbox`: the write only records the changed keys locally;
   * a drain (SQL function or `startOutboxWorker`) delivers them later, so writes go on while
   * the other side is down. Needs key columns that are plain local columns.
   */
  readonly delivery?: SyncDelivery;
  /**
   * Local tables the column expressions read (lookups), and which synced rows read each row of
   * them: an INSERT, UPDATE or DELETE there sends those rows again, with this sync's delivery and
   * timing. None by default. See SyncDependencyOptions.
   */
  readonly dependsOn?: readonly SyncDependencyOptions[];
  /**
   * Two-way outbox: how a key changed on both sides between drains is settled, e.g.
   * `{ thisSide: 'app', latest: 'updated_at', ties: 'legacy' }` or `{ thisSide: 'app', winner: 'legacy' }`.
   * Declare the same policy on both sides. Each conflict is recorded in a conflict log table.
   * Needs `delivery: 'outbox'` and `ignoreWritesBy`. None by default: the last delivery wins.
   */
  readonly conflicts?: ConflictPolicyOptions;
  /**
   * Sends only the rows that match: a condition over the local row `src`, made with
   * sqlExpression() (e.g. `sqlExpression('src.user_id IS NOT NULL')`). An update that makes a
   * sent row stop matching deletes it on the other side; one that makes it match sends it; a
   * change of a row that matches neither before nor after sends nothing. Default: every row.
   */
  readonly where?: SqlExpression;
}

const KEYS = [
  'server',
  'table',
  'remote',
  'key',
  'columns',
  'operations',
  'ignoreWritesBy',
  'batchSize',
  'timing',
  'delivery',
  'dependsOn',
  'conflicts',
  'where',
] as const;
/**
 * The sending side of a sync: statement-level triggers on a local table that send each
 * statement's rows, in batches, to the other side's sync endpoint through the link. Values
 * are sent exactly as stored; a failed remote write fails the local statement; a local
 * rollback leaves the remote untouched (postgres_fdw commits it only when the local commits).
 *
 * @example
 * syncTrigger({ server: 'app', table: 'products', key: ['id'], columns: ['id', 'name', 'price'] })
 * // DO $pgsl$ ... EXECUTE 'CREATE FOREIGN TABLE public.products__sync_to_app_upsert (' ...
 * //   EXECUTE 'CREATE FOREIGN TABLE public.products__sync_to_app_delete (' ... $pgsl$;
 * // CREATE FUNCTION public.products__sync_to_app() RETURNS trigger ...
 * // CREATE TRIGGER sync_to_app_insert AFTER INSERT ON public.products REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION public.products__sync_to_app('upsert');
 * // CREATE TRIGGER sync_to_app_update AFTER UPDATE ON public.products REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION public.products__sync_to_app('upsert');
 * // CREATE TRIGGER sync_to_app_update_key AFTER UPDATE OF id ON public.products FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION public.products__sync_to_app('moved');
 * // CREATE TRIGGER sync_to_app_delete AFTER DELETE ON public.products REFERENCING OLD TABLE AS pg_sync_old FOR EACH STATEMENT EXECUTE FUNCTION public.products__sync_to_app('delete');
 */
export function syncTrigger(input: SyncTriggerOptions): SyncTriggerNode;
/**
 * A sync to another table of the same database: no link, written in the writer's transaction.
 *
 * @example
 * syncTrigger({ table: 'portal_users', target: 'accounts', key: ['id'], columns: ['id', { remote: 'title', local: 'name' }] })
 * // CREATE FUNCTION public.portal_users__sync_to_public_accounts() RETURNS trigger ...
 * // CREATE TRIGGER sync_to_public_accounts_insert AFTER INSERT ON public.portal_users REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION public.portal_users__sync_to_public_accounts('upsert');
 * // ... and triggers for update, a changed key and delete
 */
export function syncTrigger(input: LocalSyncOptions): LocalSyncNode;
export function syncTrigger(input: SyncTriggerOptions | LocalSyncOptions): SyncTriggerNode | LocalSyncNode {
  if (typeof input === 'object' && input !== null && 'target' in input) {
    if ('server' in input) {
      throw new InvalidOptionError(
        'syncTrigger takes server (and remote) for another database, or target for a table of the same database; not both.',
        'syncTrigger.target',
      );
    }
    return localSync(input);
  }
  const spec = checkObject(input, 'syncTrigger', KEYS);
  const server = checkIdentifier(spec.server, 'foreign server');
  // The trigger runs with search_path = pg_catalog, so every name it uses is schema-qualified.
  const table = withSchema(checkQualifiedName(spec.table, 'synced table'));
  const path = `sync of "${table.name}" to server "${server}"`;
  const remoteSpec = spec.remote === undefined ? {} : checkObject(spec.remote, `${path}.remote`, ['schema', 'name']);
  const remote = Object.freeze({
    schema: remoteSpec.schema === undefined ? 'public' : checkIdentifier(remoteSpec.schema, 'remote schema'),
    name: remoteSpec.name === undefined ? table.name : checkIdentifier(remoteSpec.name, 'remote table'),
  });
  const { columns, key } = checkSyncColumns(spec.columns, spec.key, path);
  const batchSize = spec.batchSize ?? 1000;
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new InvalidOptionError(`${path}.batchSize must be a whole number, 1 or more.`, `${path}.batchSize`);
  }
  const timing = spec.timing ?? 'immediate';
  if (timing !== 'immediate' && timing !== 'commit') {
    throw new InvalidOptionError(
      `${path}.timing must be 'immediate' or 'commit', got ${JSON.stringify(timing)}.`,
      `${path}.timing`,
    );
  }
  const delivery = spec.delivery ?? 'write-through';
  if (delivery !== 'write-through' && delivery !== 'outbox') {
    throw new InvalidOptionError(
      `${path}.delivery must be 'write-through' or 'outbox', got ${JSON.stringify(delivery)}.`,
      `${path}.delivery`,
    );
  }
  if (delivery === 'outbox' && spec.timing !== undefined) {
    throw new InvalidOptionError(
      `${path}: timing applies to write-through delivery; an outbox always sends rows as they are when drained. Leave timing out.`,
      `${path}.timing`,
    );
  }
  const keyedLocally =
    timing === 'commit' ? "timing 'commit'" : delivery === 'outbox' ? "delivery 'outbox'" : undefined;
  if (keyedLocally) {
    for (const name of key) {
      if (!('column' in columns.find((column) => column.remote === name)!.source)) {
        throw new InvalidOptionError(
          `${path}: with ${keyedLocally}, key column "${name}" must come from a local column, not an expression (deleted rows are found by their local key).`,
          `${path}.key`,
        );
      }
    }
  }
  senderObjects(table, server); // refuses names that would be too long
  if (delivery === 'outbox') outboxObjects(table, server);
  endpointViews(
    remote,
    key,
    columns.map((column) => column.remote),
  );
  const operations = checkOperations(spec.operations, path);
  const dependsOn = checkDependencies(spec.dependsOn, { path, table, server, columns, operations });
  const ignoreWritesBy = checkIgnore(spec.ignoreWritesBy, path);
  const conflicts = checkConflictPolicy(spec.conflicts, {
    path,
    server,
    delivery,
    ignoresWrites: ignoreWritesBy !== undefined,
    columns,
  });
  if (conflicts) conflictObjects(table, server); // refuses names that would be too long
  const fields = {
    kind: 'sync-trigger' as const,
    server,
    table,
    remote,
    key,
    columns,
    operations,
    ignoreWritesBy,
    batchSize,
    ...(dependsOn.length > 0 ? { dependsOn } : {}),
    where: checkRowFilter(spec.where, path),
  };
  return Object.freeze(
    delivery === 'outbox'
      ? { ...fields, timing: 'immediate' as const, delivery, ...(conflicts ? { conflicts } : {}) }
      : { ...fields, timing, delivery },
  );
}

export function renderSyncTrigger(node: SyncTriggerNode): Rendered {
  const objects = senderObjects(node.table, node.server);
  const dropForeignTables = [
    sql`DROP FOREIGN TABLE ${qualified(objects.deleteTable)}`,
    sql`DROP FOREIGN TABLE ${qualified(objects.upsertTable)}`,
  ];
  const roleCheck = ignoredRoleCheck(node);
  const checks: Fragment[] = roleCheck === undefined ? [] : [roleCheck];
  if (node.where !== undefined)
    checks.push(rowFilterCheck(node.table, node.where, `sync of ${displayName(node.table)} to server ${node.server}`));
  const dependencies = renderDependencies(node);
  if (node.delivery === 'outbox') {
    const outbox = renderOutbox(node);
    return {
      up: [...checks, createForeignTables(node), ...outbox.up, ...dependencies.up],
      down: [...dependencies.down, ...outbox.down, ...dropForeignTables],
    };
  }
  const { fn, triggers } = node.timing === 'commit' ? renderAtCommit(node) : renderImmediate(node);
  return {
    up: [...checks, createForeignTables(node), fn, ...triggers.up, ...dependencies.up],
    down: [
      ...dependencies.down,
      ...triggers.down,
      sql`DROP FUNCTION ${qualified(objects.function)}()`,
      ...dropForeignTables,
    ],
  };
}

/** A sync to another database in the kind registry (src/kinds/registry.ts). */
export const syncTriggerKind: KindDefinition<SyncTriggerNode> = {
  render: renderSyncTrigger,
  describe: (node) => `sync ${node.table.name} to ${node.server}`,
  identity: (node) => `sync ${JSON.stringify([node.table.schema, node.table.name, node.server])}`,
  step: (node) => `sync-${node.table.schema}.${node.table.name}-to-${node.server}`,
};
