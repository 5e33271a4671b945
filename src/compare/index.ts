export { verifyTables, type VerifyOptions, type VerifyResult, type KeyValues, type CompareProgress } from './verify.js';
export {
  backfillTables,
  reconcileTables,
  type BackfillOptions,
  type ReconcileOptions,
  type BackfillResult,
} from './reconcile.js';
export { tablePair, type SyncNodeToCompare, type TablePair, type TablePairOptions } from './table-pair.js';
