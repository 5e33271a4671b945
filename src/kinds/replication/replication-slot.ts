import { checkObject } from '../../spec/object.js';
import { literal, sql } from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import type { KindDefinition } from '../kind.js';
import { checkSlotName } from './slot-name.js';

/** What replicationSlot() takes. */
export interface ReplicationSlotOptions {
  /** The slot's name; a subscription uses it with `slotName` (default: the subscription's name). */
  readonly name: string;
}

/**
 * A logical replication slot (plugin pgoutput) in the publisher's database, for a
 * subscription() on the other server. The subscription cannot create it itself without its
 * password appearing in statement text (see subscription.ts), so the publisher's migration
 * creates it. Once a subscription uses it, dropping the subscription drops the slot too.
 */
export interface ReplicationSlotNode {
  /** Tells the node kinds apart. */
  readonly kind: 'replication-slot';
  /** The slot's name. */
  readonly name: string;
}

/**
 * A logical replication slot (plugin pgoutput), made by the publisher's migration for a
 * subscription() on the other server. Not transactional: PostgreSQL refuses to make a slot in a
 * transaction that has written anything.
 *
 * @example
 * replicationSlot({ name: 'products_sub' })
 * // SELECT pg_catalog.pg_create_logical_replication_slot('products_sub', 'pgoutput');
 * // down: SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots WHERE slot_name = 'products_sub' AND database = pg_catalog.current_database();
 */
export function replicationSlot(input: ReplicationSlotOptions): ReplicationSlotNode {
  const spec = checkObject(input, 'replicationSlot', ['name']);
  return Object.freeze({ kind: 'replication-slot', name: checkSlotName(spec.name, 'replicationSlot.name') });
}

export function renderReplicationSlot(node: ReplicationSlotNode): Rendered {
  return {
    up: [sql`SELECT pg_catalog.pg_create_logical_replication_slot(${literal(node.name)}, 'pgoutput')`],
    // DROP SUBSCRIPTION on the subscriber drops the slot already; this removes it if no
    // subscription used it, or one was removed without it (slot_name = NONE).
    down: [
      sql`SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots WHERE slot_name = ${literal(node.name)} AND database = pg_catalog.current_database()`,
    ],
    // A slot made in a transaction that rolls back stays; and PostgreSQL refuses to make one
    // in a transaction that has written anything (such as CREATE PUBLICATION before it).
    transactional: false,
  };
}

/** A replication slot in the kind registry (src/kinds/registry.ts). */
export const replicationSlotKind: KindDefinition<ReplicationSlotNode> = {
  render: renderReplicationSlot,
  describe: (node) => `replication slot ${node.name}`,
  identity: (node) => `slot ${JSON.stringify(node.name)}`,
  step: (node) => `slot-${node.name}`,
};
