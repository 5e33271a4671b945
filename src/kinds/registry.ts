import { fdwExtensionKind, type FdwExtensionNode } from './fdw/fdw-extension.js';
import { foreignServerKind, type ForeignServerNode } from './fdw/foreign-server.js';
import { foreignTableKind, type ForeignTableNode } from './fdw/foreign-table.js';
import { importForeignSchemaKind, type ImportForeignSchemaNode } from './fdw/import-foreign-schema.js';
import { linkCheckKind, type LinkCheckNode } from './fdw/link-check.js';
import { userMappingKind, type UserMappingNode } from './fdw/user-mapping.js';
import { changeFeedKind, type ChangeFeedNode } from './feed/change-feed.js';
import {
  interleavedIdsKind,
  sharedIdSourceKind,
  sharedIdsKind,
  type InterleavedIdsNode,
  type SharedIdSourceNode,
  type SharedIdsNode,
} from './ids/shared-ids.js';
import type { KindDefinition } from './kind.js';
import { publicationKind, type PublicationNode } from './replication/publication.js';
import { replicationSlotKind, type ReplicationSlotNode } from './replication/replication-slot.js';
import type { SubscriptionNode } from './replication/subscription-node.js';
import { subscriptionKind } from './replication/subscription-render.js';
import { localSyncKind, type LocalSyncNode } from './sync/sync-local.js';
import { syncEndpointKind, type SyncEndpointNode } from './sync/sync-endpoint.js';
import { syncRoleKind, type SyncRoleNode } from './sync/sync-role.js';
import { syncTriggerKind, type SyncTriggerNode } from './sync/sync-trigger.js';

/** Every kind of object a migration can create. A new kind without a registry entry does not compile. */
export type SyncNode =
  | FdwExtensionNode
  | ForeignServerNode
  | UserMappingNode
  | LinkCheckNode
  | ForeignTableNode
  | ImportForeignSchemaNode
  | SyncEndpointNode
  | SyncRoleNode
  | SyncTriggerNode
  | SharedIdSourceNode
  | SharedIdsNode
  | InterleavedIdsNode
  | ChangeFeedNode
  | LocalSyncNode
  | PublicationNode
  | ReplicationSlotNode
  | SubscriptionNode;

/** The kind names: `'foreign-server'`, `'sync-trigger'`... */
export type Kind = SyncNode['kind'];

/** One definition per kind, keyed by kind: the compiler checks none is missing. */
export const kinds: { readonly [K in Kind]: KindDefinition<Extract<SyncNode, { kind: K }>> } = {
  'fdw-extension': fdwExtensionKind,
  'foreign-server': foreignServerKind,
  'user-mapping': userMappingKind,
  'link-check': linkCheckKind,
  'foreign-table': foreignTableKind,
  'import-foreign-schema': importForeignSchemaKind,
  'sync-endpoint': syncEndpointKind,
  'sync-role': syncRoleKind,
  'sync-trigger': syncTriggerKind,
  'shared-id-source': sharedIdSourceKind,
  'shared-ids': sharedIdsKind,
  'interleaved-ids': interleavedIdsKind,
  'change-feed': changeFeedKind,
  'local-sync': localSyncKind,
  publication: publicationKind,
  'replication-slot': replicationSlotKind,
  subscription: subscriptionKind,
};

/** The definition of a node's kind, typed for that node. */
export function kindOf<N extends SyncNode>(node: N): KindDefinition<N> {
  // Each entry is the definition of its own kind; the compiler cannot tie kinds[node.kind] to N.
  return kinds[node.kind] as unknown as KindDefinition<N>;
}
