import { renderChangeFeed, type ChangeFeedNode } from './feed/change-feed.js';
import { InvalidOptionError } from '../errors.js';
import { renderFdwExtension, type FdwExtensionNode } from './fdw/fdw-extension.js';
import { renderForeignServer, renderForeignServerChange, type ForeignServerNode } from './fdw/foreign-server.js';
import { renderForeignTable, type ForeignTableNode } from './fdw/foreign-table.js';
import { renderImportForeignSchema, type ImportForeignSchemaNode } from './fdw/import-foreign-schema.js';
import { renderLinkCheck, type LinkCheckNode } from './fdw/link-check.js';
import { renderInterleavedIds, renderSharedIds, renderSharedIdSource, type InterleavedIdsNode, type SharedIdSourceNode, type SharedIdsNode } from './ids/shared-ids.js';
import { renderSyncEndpoint, type SyncEndpointNode } from './sync/sync-endpoint.js';
import { renderSyncRole, type SyncRoleNode } from './sync/sync-role.js';
import { renderSyncTrigger, type SyncTriggerNode } from './sync/sync-trigger.js';
import { renderLocalSync, type LocalSyncNode } from './sync/sync-local.js';
import { renderPublication, type PublicationNode } from './replication/publication.js';
import { allTransactional, type Rendered } from './rendered.js';
import { renderReplicationSlot, type ReplicationSlotNode } from './replication/replication-slot.js';
import { renderSubscription, type SubscriptionNode } from './replication/subscription.js';
import { renderUserMapping, renderUserMappingChange, type UserMappingNode } from './fdw/user-mapping.js';

/** Every kind of object a migration can create. A new kind without a renderer does not compile. */
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

type Renderers = { readonly [K in SyncNode['kind']]: (node: Extract<SyncNode, { kind: K }>) => Rendered };

const renderers: Renderers = {
  'fdw-extension': renderFdwExtension,
  'foreign-server': renderForeignServer,
  'user-mapping': renderUserMapping,
  'link-check': renderLinkCheck,
  'foreign-table': renderForeignTable,
  'import-foreign-schema': renderImportForeignSchema,
  'sync-endpoint': renderSyncEndpoint,
  'sync-role': renderSyncRole,
  'sync-trigger': renderSyncTrigger,
  'shared-id-source': renderSharedIdSource,
  'shared-ids': renderSharedIds,
  'interleaved-ids': renderInterleavedIds,
  'change-feed': renderChangeFeed,
  'local-sync': renderLocalSync,
  publication: renderPublication,
  'replication-slot': renderReplicationSlot,
  subscription: renderSubscription,
};

export function renderNode(node: SyncNode): Rendered {
  const render = renderers[node.kind] as (node: SyncNode) => Rendered;
  return render(node);
}

/** A short name for a node, used as a default migration id and in messages. */
export function describeNode(node: SyncNode): string {
  switch (node.kind) {
    case 'fdw-extension':
      return 'extension postgres_fdw';
    case 'foreign-server':
      return `server ${node.name}`;
    case 'user-mapping':
      return `user mapping ${typeof node.role === 'string' ? node.role : node.role.role} on ${node.server}`;
    case 'link-check':
      return `check of ${node.server}`;
    case 'foreign-table':
      return `foreign table ${node.name.schema ? `${node.name.schema}.` : ''}${node.name.name}`;
    case 'import-foreign-schema':
      return `import ${node.server}:${node.remoteSchema} into ${node.into}`;
    case 'sync-endpoint':
      return `sync endpoint ${node.table.name}`;
    case 'sync-role':
      return `sync role ${node.name}`;
    case 'sync-trigger':
      return `sync ${node.table.name} to ${node.server}`;
    case 'shared-id-source':
      return `${node.strategy} id source ${node.table.name}.${node.column}`;
    case 'shared-ids':
      return `${node.strategy} ids ${node.table.name}.${node.column} from ${node.server}`;
    case 'interleaved-ids':
      return `interleaved ids ${node.table.name}.${node.column} (${node.slot} of ${node.of})`;
    case 'change-feed':
      return `change feed ${node.table.name}`;
    case 'local-sync':
      return `sync ${node.table.name} to ${node.target.schema}.${node.target.name}`;
    case 'publication':
      return `publication ${node.name}`;
    case 'replication-slot':
      return `replication slot ${node.name}`;
    case 'subscription':
      return `subscription ${node.name}`;
  }
}

/**
 * What a node is, independent of how it is configured: two versions of a link whose nodes
 * share an identity hold the same object, changed or not.
 */
export function identityOf(node: SyncNode): string {
  const name = (value: { schema?: string; name: string }) => JSON.stringify([value.schema ?? null, value.name]);
  switch (node.kind) {
    case 'fdw-extension':
      return 'extension';
    case 'foreign-server':
      return `server ${JSON.stringify(node.name)}`;
    case 'user-mapping':
      return `mapping ${JSON.stringify([node.server, node.role])}`;
    case 'link-check':
      return `check ${JSON.stringify(node.server)}`;
    case 'foreign-table':
      return `foreign table ${name(node.name)}`;
    case 'import-foreign-schema':
      return `import ${JSON.stringify([node.server, node.remoteSchema, node.into])}`;
    case 'sync-endpoint':
      return `endpoint ${name(node.table)} ${JSON.stringify([[...node.key].sort(), [...node.columns].sort()])}`;
    case 'sync-trigger':
      return `sync ${JSON.stringify([node.table.schema, node.table.name, node.server])}`;
    case 'sync-role':
      return `role ${JSON.stringify(node.name)}`;
    case 'shared-id-source':
    case 'shared-ids':
    case 'interleaved-ids':
      return `ids ${JSON.stringify([node.kind, node.table.schema, node.table.name, node.column])}`;
    case 'change-feed':
      return `feed ${name(node.table)}`;
    case 'local-sync':
      return `local sync ${JSON.stringify([node.table.schema, node.table.name, node.target.schema, node.target.name])}`;
    case 'publication':
      return `publication ${JSON.stringify(node.name)}`;
    case 'replication-slot':
      return `slot ${JSON.stringify(node.name)}`;
    case 'subscription':
      return `subscription ${JSON.stringify(node.name)}`;
  }
}

/**
 * How to turn one version of a node into another: in place where PostgreSQL can alter it
 * (server and mapping options), otherwise by removing the old and creating the new.
 */
export function renderChange(before: SyncNode, after: SyncNode): Rendered {
  if (before.kind === 'foreign-server' && after.kind === 'foreign-server') return renderForeignServerChange(before, after);
  if (before.kind === 'user-mapping' && after.kind === 'user-mapping') return renderUserMappingChange(before, after);
  if (before.kind === 'subscription') {
    // Dropping it drops its slot, and the new one would find no slot to use.
    throw new InvalidOptionError(
      `subscription "${before.name}" changed between versions; it cannot be changed in place: give the new version a subscription with another name and slot (and the publisher a replicationSlot for it), and leave the old one out.`,
      `subscription "${before.name}"`,
    );
  }
  const old = renderNode(before);
  const next = renderNode(after);
  const steps = { up: [...old.down, ...next.up], down: [...next.down, ...old.up] };
  return allTransactional([old, next]) ? steps : { ...steps, transactional: false };
}

export function isSyncNode(value: unknown): value is SyncNode {
  return typeof value === 'object' && value !== null && 'kind' in value && Object.hasOwn(renderers, (value as { kind: string }).kind);
}

export { allTransactional, type Rendered } from './rendered.js';
export { fdwExtensionNode, type FdwExtensionNode } from './fdw/fdw-extension.js';
export { foreignServer, type ForeignServerNode, type ForeignServerOptions } from './fdw/foreign-server.js';
export { userMapping, type UserMappingNode, type UserMappingOptions, type MappingRole } from './fdw/user-mapping.js';
export { foreignTable, type ForeignTableNode, type ForeignTableOptions, type ForeignColumnOptions } from './fdw/foreign-table.js';
export { linkCheck, type LinkCheckNode } from './fdw/link-check.js';
export { importForeignSchema, type ImportForeignSchemaNode, type ImportForeignSchemaOptions } from './fdw/import-foreign-schema.js';
export { syncEndpoint, type SyncEndpointNode, type SyncEndpointOptions } from './sync/sync-endpoint.js';
export { syncRole, type SyncRoleNode, type SyncRoleOptions } from './sync/sync-role.js';
export { syncTrigger, type SyncTriggerNode, type SyncTriggerOptions, type SyncTiming, type SyncDelivery, type IgnoreWrites } from './sync/sync-trigger.js';
export type { SyncOperation } from './sync/sync-operations.js';
export type { LocalSyncNode, LocalSyncOptions } from './sync/sync-local.js';
export type { SyncColumnOptions } from './sync/sync-columns.js';
export { publication, type PublicationNode, type PublicationOptions, type PublicationTableOptions, type PublishOperation } from './replication/publication.js';
export { replicationSlot, type ReplicationSlotNode, type ReplicationSlotOptions } from './replication/replication-slot.js';
export { subscription, type SubscriptionNode, type SubscriptionOptions } from './replication/subscription.js';
export { sharedIdSource, sharedIds, interleavedIds, interleavedIdPlan, type SharedIdSourceOptions, type SharedIdsOptions, type InterleavedIdsOptions, type SharedIdStrategy } from './ids/shared-ids.js';
export { changeFeed, type ChangeFeedNode, type ChangeFeedOptions } from './feed/change-feed.js';
