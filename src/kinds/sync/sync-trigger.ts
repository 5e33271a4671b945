import { InvalidOptionError } from '../../errors.js';
import { checkObject } from '../../spec/object.js';
import { checkIdentifier, checkQualifiedName } from '../../sql/index.js';
import { checkSyncColumns } from './sync-columns.js';
import { checkRowFilter } from './sync-filter.js';
import { checkIgnore } from './sync-ignore-writes.js';
import { conflictObjects, endpointViews, outboxObjects, senderObjects, withSchema } from './sync-names.js';
import { localSync, type LocalSyncNode, type LocalSyncOptions } from './sync-local.js';
import { checkOperations } from './sync-operations.js';
import { checkDependencies } from './dependencies/dependency-options.js';
import { checkConflictPolicy } from './sync-conflicts.js';
import { SYNC_TRIGGER_KEYS, type SyncTriggerOptions } from './sync-trigger-options.js';
import type { SyncTriggerNode } from './sync-trigger-node.js';

export type {
  IgnoreWrites,
  OutboxSyncNode,
  SyncDelivery,
  SyncTiming,
  SyncTriggerNode,
  WriteThroughSyncNode,
} from './sync-trigger-node.js';
export type { SyncTriggerOptions } from './sync-trigger-options.js';
export { renderSyncTrigger, syncTriggerKind } from './sync-trigger-render.js';

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
  const spec = checkObject(input, 'syncTrigger', SYNC_TRIGGER_KEYS);
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
