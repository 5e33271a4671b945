import { InvalidOptionError } from '../../../errors.js';
import { expression, ident, sql, type Fragment } from '../../../sql/index.js';
import type { SyncColumn } from '../sync-columns.js';
import type { SyncTriggerNode } from '../sync-trigger-node.js';

// A sync's key and the values it sends, over the changed local row `src`.

/** The value sent for a remote column, over the changed local row `src`. */
export function valueOf(column: SyncColumn): Fragment {
  return 'column' in column.source ? sql`src.${ident(column.source.column)}` : expression(column.source.expression);
}

export function keyColumnsOf(node: SyncTriggerNode): readonly SyncColumn[] {
  return node.key.map((name) => node.columns.find((column) => column.remote === name)!);
}

/** The local columns the key comes from, or undefined when a key column is an expression. */
export function localKeyOf(node: SyncTriggerNode): readonly string[] | undefined {
  const names = keyColumnsOf(node).flatMap((column) => ('column' in column.source ? [column.source.column] : []));
  return names.length === node.key.length ? names : undefined;
}

/** The local key of a sync whose timing or delivery needs one (syncTrigger checks it; a node built by hand may not). */
export function requiredLocalKey(node: SyncTriggerNode, needs: string): readonly string[] {
  const names = localKeyOf(node);
  if (names === undefined) {
    throw new InvalidOptionError(
      `sync of "${node.table.name}" to server "${node.server}": with ${needs}, every key column must come from a local column, not an expression.`,
      `sync of "${node.table.name}" to server "${node.server}".key`,
    );
  }
  return names;
}
