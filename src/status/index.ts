export { status } from './status.js';
export { formatStatus } from './format.js';
export type {
  StatusOptions,
  SyncLinkStatus,
  LinkStatus,
  SyncStatus,
  SyncMode,
  OutboxStatus,
  FeedStatus,
  FeedConsumerStatus,
} from './types.js';
