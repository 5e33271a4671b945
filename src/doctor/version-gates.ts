import { finding, type Finding } from './findings.js';

/** What is installed in the database, as far as the version gates care. */
export interface FeatureUse {
  readonly syncTriggers: number;
  readonly sharedIdObjects: number;
  /** Every option name set on a postgres_fdw server or foreign table. */
  readonly fdwOptions: ReadonlySet<string>;
  readonly publications: number;
  readonly subscriptions: number;
  /** Subscriptions with origin = none: only they need PostgreSQL 16. */
  readonly subscriptionsOriginNone: number;
}

interface Gate {
  readonly feature: string;
  readonly minimum: number;
  readonly inUse: (use: FeatureUse) => boolean;
}

const option = (name: string) => (use: FeatureUse) => use.fdwOptions.has(name);

/** The PostgreSQL features the library relies on, and the first major version that has each. */
export const VERSION_GATES: readonly Gate[] = [
  {
    feature: 'statement triggers with transition tables (syncTrigger)',
    minimum: 10,
    inUse: (use) => use.syncTriggers > 0,
  },
  { feature: 'CREATE TRIGGER ... EXECUTE FUNCTION (syncTrigger)', minimum: 11, inUse: (use) => use.syncTriggers > 0 },
  {
    feature: 'pg_sequence and pg_sequence_last_value (shared ids)',
    minimum: 10,
    inUse: (use) => use.sharedIdObjects > 0,
  },
  {
    feature: 'postgres_fdw batch_size (the foreign tables of syncTrigger)',
    minimum: 14,
    inUse: (use) => use.syncTriggers > 0 || use.fdwOptions.has('batch_size'),
  },
  { feature: 'postgres_fdw async_capable', minimum: 14, inUse: option('async_capable') },
  { feature: 'postgres_fdw keep_connections', minimum: 14, inUse: option('keep_connections') },
  { feature: 'postgres_fdw parallel_commit', minimum: 15, inUse: option('parallel_commit') },
  { feature: 'postgres_fdw parallel_abort', minimum: 16, inUse: option('parallel_abort') },
  { feature: 'postgres_fdw analyze_sampling', minimum: 16, inUse: option('analyze_sampling') },
  { feature: 'logical replication column lists and row filters', minimum: 15, inUse: (use) => use.publications > 0 },
  {
    feature: 'subscription origin = none (two-way logical replication)',
    minimum: 16,
    inUse: (use) => use.subscriptionsOriginNone > 0,
  },
];

/**
 * One ok finding that states the server's version and what it supports, plus an error for each
 * feature in use that this version does not have (a restored dump, or a downgraded server).
 */
export function versionFindings(serverVersion: string, versionNum: number, use: FeatureUse): Finding[] {
  const major = Math.floor(versionNum / 10000);
  const inUse = VERSION_GATES.filter((gate) => gate.inUse(use));
  const missing = inUse.filter((gate) => major < gate.minimum);
  const unavailable = VERSION_GATES.filter((gate) => !gate.inUse(use) && major < gate.minimum);
  const supported = inUse.filter((gate) => major >= gate.minimum);
  const parts = [`PostgreSQL ${serverVersion} (server_version_num ${versionNum}).`];
  if (supported.length > 0)
    parts.push(`In use and supported: ${supported.map((gate) => `${gate.feature} (${gate.minimum}+)`).join('; ')}.`);
  if (unavailable.length > 0)
    parts.push(
      `Not available on this version, not used here: ${unavailable.map((gate) => `${gate.feature} (${gate.minimum}+)`).join('; ')}.`,
    );
  return [
    finding('version', 'ok', 'server', parts.join(' ')),
    ...missing.map((gate) =>
      finding(
        'version',
        'error',
        'server',
        `${gate.feature} needs PostgreSQL ${gate.minimum} or later; this server is ${serverVersion}.`,
        `Upgrade this server to PostgreSQL ${gate.minimum} or later, or remove what uses it.`,
      ),
    ),
  ];
}
