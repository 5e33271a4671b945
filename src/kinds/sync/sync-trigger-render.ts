import { qualified, sql, type Fragment } from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import type { KindDefinition } from '../kind.js';
import { renderAtCommit } from './sender/sync-at-commit.js';
import { rowFilterCheck } from './sync-filter.js';
import { renderImmediate } from './sender/sync-immediate.js';
import { createForeignTables } from './sender/sync-foreign-tables.js';
import { displayName } from './sender/sync-labels.js';
import { ignoredRoleCheck } from './sender/sync-sender-sql.js';
import { senderObjects } from './sync-names.js';
import { renderOutbox } from './sender/sync-outbox.js';
import { renderDependencies } from './dependencies/dependency-sql.js';
import type { SyncTriggerNode } from './sync-trigger-node.js';

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
