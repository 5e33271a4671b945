import { allTransactional, type Rendered } from './rendered.js';
import { kindOf, kinds, type SyncNode } from './registry.js';

export { kinds, type Kind, type SyncNode } from './registry.js';
export type { KindDefinition } from './kind.js';

export function renderNode(node: SyncNode): Rendered {
  return kindOf(node).render(node);
}

/** A short name for a node, used as a default migration id and in messages. */
export function describeNode(node: SyncNode): string {
  return kindOf(node).describe(node);
}

/**
 * What a node is, independent of how it is configured: two versions of a link whose nodes
 * share an identity hold the same object, changed or not.
 */
export function identityOf(node: SyncNode): string {
  return kindOf(node).identity(node);
}

/** The step of a migration set a node belongs to: a link's extension, server, mappings and check go together. */
export function stepOf(node: SyncNode): string {
  return kindOf(node).step(node);
}

/**
 * How to turn one version of a node into another: in place where PostgreSQL can alter it
 * (server and mapping options), otherwise by removing the old and creating the new.
 */
export function renderChange(before: SyncNode, after: SyncNode): Rendered {
  const change = kindOf(before).change;
  if (change && before.kind === after.kind) return change(before, after);
  const old = renderNode(before);
  const next = renderNode(after);
  const steps = { up: [...old.down, ...next.up], down: [...next.down, ...old.up] };
  return allTransactional([old, next]) ? steps : { ...steps, transactional: false };
}

export function isSyncNode(value: unknown): value is SyncNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    'kind' in value &&
    typeof value.kind === 'string' &&
    Object.hasOwn(kinds, value.kind)
  );
}

export { allTransactional, type Rendered } from './rendered.js';
export { fdwExtensionNode, type FdwExtensionNode } from './fdw/fdw-extension.js';
export { foreignServer, type ForeignServerNode, type ForeignServerOptions } from './fdw/foreign-server.js';
export { userMapping, type UserMappingNode, type UserMappingOptions, type MappingRole } from './fdw/user-mapping.js';
export {
  foreignTable,
  type ForeignTableNode,
  type ForeignTableOptions,
  type ForeignColumnOptions,
} from './fdw/foreign-table.js';
export { linkCheck, type LinkCheckNode } from './fdw/link-check.js';
export {
  importForeignSchema,
  type ImportForeignSchemaNode,
  type ImportForeignSchemaOptions,
} from './fdw/import-foreign-schema.js';
export { syncEndpoint, type SyncEndpointNode, type SyncEndpointOptions } from './sync/sync-endpoint.js';
export { syncRole, type SyncRoleNode, type SyncRoleOptions } from './sync/sync-role.js';
export {
  syncTrigger,
  type SyncTriggerNode,
  type WriteThroughSyncNode,
  type OutboxSyncNode,
  type SyncTriggerOptions,
  type SyncTiming,
  type SyncDelivery,
  type IgnoreWrites,
} from './sync/sync-trigger.js';
export type { SyncOperation } from './sync/sync-operations.js';
export type { LocalSyncNode, LocalSyncOptions } from './sync/sync-local.js';
export type { SyncColumnOptions } from './sync/sync-columns.js';
export type {
  SyncDependencyOptions,
  SyncDependency,
  DependencyDeleteAction,
} from './sync/dependencies/dependency-options.js';
export {
  publication,
  type PublicationNode,
  type PublicationOptions,
  type PublicationTableOptions,
  type PublishOperation,
} from './replication/publication.js';
export {
  replicationSlot,
  type ReplicationSlotNode,
  type ReplicationSlotOptions,
} from './replication/replication-slot.js';
export { subscription, type SubscriptionNode, type SubscriptionOptions } from './replication/subscription.js';
export {
  sharedIdSource,
  sharedIds,
  interleavedIds,
  interleavedIdPlan,
  type SharedIdSourceOptions,
  type SharedIdsOptions,
  type InterleavedIdsOptions,
  type SharedIdStrategy,
} from './ids/shared-ids.js';
export { changeFeed, type ChangeFeedNode, type ChangeFeedOptions } from './feed/change-feed.js';
