export { fdwLink, type FdwLink, type FdwLinkOptions } from './link.js';
export {
  foreignServer,
  userMapping,
  foreignTable,
  importForeignSchema,
  describeNode,
  syncEndpoint,
  syncRole,
  syncTrigger,
  changeFeed,
  type ChangeFeedOptions,
  sharedIdSource,
  sharedIds,
  interleavedIds,
  interleavedIdPlan,
  publication,
  replicationSlot,
  subscription,
  type PublicationOptions,
  type PublicationTableOptions,
  type PublishOperation,
  type ReplicationSlotOptions,
  type SubscriptionOptions,
  type SharedIdSourceOptions,
  type SharedIdsOptions,
  type InterleavedIdsOptions,
  type SharedIdStrategy,
  type SyncEndpointOptions,
  type SyncRoleOptions,
  type SyncTriggerOptions,
  type SyncOperation,
  type SyncTiming,
  type SyncDelivery,
  type LocalSyncOptions,
  type IgnoreWrites,
  type SyncColumnOptions,
  type SyncDependencyOptions,
  type SyncDependency,
  type DependencyDeleteAction,
  type SyncNode,
  type ForeignServerOptions,
  type UserMappingOptions,
  type MappingRole,
  type ForeignTableOptions,
  type ForeignColumnOptions,
  type ImportForeignSchemaOptions,
} from './kinds/index.js';
export {
  buildMigration,
  flattenParts,
  isMigration,
  migrationNodes,
  migrationOf,
  previewMigration,
  type Migration,
  type Part,
} from './model/migration.js';
export { planMigrations, changeMigration, versionedMigrations, type Version } from './model/plan.js';
export { applySyncLink, removeSyncLink, type ApplyOptions, type ApplyResult } from './run/apply.js';
export {
  verifyTables,
  backfillTables,
  reconcileTables,
  tablePair,
  type VerifyOptions,
  type VerifyResult,
  type KeyValues,
  type CompareProgress,
  type BackfillOptions,
  type ReconcileOptions,
  type BackfillResult,
  type TablePair,
  type TablePairOptions,
  type SyncNodeToCompare,
} from './compare/index.js';
export { loadOptionalPeer, isPackageNotFound } from './optional-peer.js';
export { withSession, type DatabaseTarget, type Session, type PgClientLike, type PgPoolLike } from './run/session.js';
export {
  diagnose,
  formatDiagnosis,
  type DiagnoseOptions,
  type Diagnosis,
  type Finding,
  type Severity,
  type DoctorCheck,
} from './doctor/index.js';
export {
  status,
  formatStatus,
  type StatusOptions,
  type SyncLinkStatus,
  type LinkStatus,
  type SyncStatus,
  type SyncMode,
  type OutboxStatus,
  type FeedStatus,
  type FeedConsumerStatus,
} from './status/index.js';
export { runMigration, type SqlExecutor, type RunOptions } from './run/execute.js';
export { noticesOf, formatNotice, type ServerNotice, type NoticeSource } from './run/notices.js';
export { env, secret, isDeferred, type Deferred } from './secrets.js';
export { sqlExpression, type SqlExpression } from './sql/index.js';
export {
  previewSql,
  quoteIdentifier,
  quoteLiteral,
  quoteQualifiedName,
  type QualifiedName,
  type Fragment,
} from './sql/index.js';
export {
  SyncLinkError,
  InvalidIdentifierError,
  InvalidLiteralError,
  InvalidOptionError,
  MissingEnvError,
  SecretResolutionError,
  MigrationFailedError,
  AlreadyAppliedDifferentlyError,
  OptionalPeerError,
  isSyncLinkError,
  syncLinkErrorOf,
  SYNC_LINK_ERROR_CODES,
  type SyncLinkErrorCode,
} from './errors.js';
export {
  outboxNames,
  drainOutbox,
  outboxLag,
  type OutboxNames,
  type DrainResult,
  type OutboxLag,
} from './outbox/outbox.js';
export {
  startOutboxWorker,
  type OutboxWorker,
  type OutboxWorkerOptions,
  type OutboxWorkerEvent,
} from './outbox/worker.js';
export type { MetricsOptions, MetricsRegistryLike } from './metrics/prometheus.js';
export { listConflicts, type ConflictRecord, type ListConflictsOptions } from './outbox/conflict-log.js';
export type { ConflictPolicyOptions } from './kinds/sync/sync-conflicts.js';
export {
  listenToChanges,
  type ChangeListener,
  type ChangeListenerOptions,
  type ChangeListenerStatus,
  type ChangeEvent,
} from './feed/listener.js';
export type { FeedPosition } from './feed/position.js';
export { feedLag, type FeedConsumerLag } from './feed/lag.js';
