/** How bad a finding is. The doctor exits 0 when every finding is ok, 1 when any is a warning or an error (`worst` says which). */
export type Severity = 'ok' | 'warning' | 'error';

/** Which check a finding comes from. */
export type DoctorCheck =
  | 'version'
  | 'postgres-fdw'
  | 'server-reachable'
  | 'user-mapping'
  | 'sync-trigger'
  | 'sync-endpoint'
  | 'foreign-table-drift'
  | 'remote-privilege'
  | 'sequence-headroom'
  | 'outbox'
  | 'feed-consumer'
  | 'subscription'
  | 'replication-slot'
  | 'writer-timeout'
  | 'same-database-sync'
  | 'change-feed'
  | 'ignore-writes'
  | 'conflicts';

/** One result of one doctor check. */
export interface Finding {
  /** The check it comes from. */
  readonly check: DoctorCheck;
  /** How bad it is. */
  readonly severity: Severity;
  /** The object it is about, e.g. `server legacy` or `public.products__sync_to_legacy_upsert`. */
  readonly subject: string;
  /** What was found, secrets scrubbed. */
  readonly message: string;
  /** What to run to fix it (warnings and errors). */
  readonly fix?: string;
}

/** What diagnose() found: the server's version and every finding. */
export interface Diagnosis {
  /** The checked database's PostgreSQL version, e.g. `18.1`. */
  readonly serverVersion: string;
  /** The server's server_version_num, e.g. 180001. */
  readonly serverVersionNum: number;
  /** Every finding, in the order the checks ran. */
  readonly findings: readonly Finding[];
  /** The worst severity among the findings (`ok` when there are none). */
  readonly worst: Severity;
  /**
   * The command's exit code: 0 when every finding is ok, 1 when any is a warning or an error
   * (findings, as for every pg-sync-link command; 2 and 3 are usage and could-not-run).
   */
  readonly exitCode: 0 | 1;
}

const RANK: Record<Severity, 0 | 1 | 2> = { ok: 0, warning: 1, error: 2 };

export function worstOf(findings: readonly Finding[]): Severity {
  return findings.reduce<Severity>(
    (worst, finding) => (RANK[finding.severity] > RANK[worst] ? finding.severity : worst),
    'ok',
  );
}

/** The doctor's exit code for its worst finding: 0 ok, 1 a warning or an error. */
export function exitCodeOf(severity: Severity): 0 | 1 {
  return severity === 'ok' ? 0 : 1;
}

export function finding(
  check: DoctorCheck,
  severity: Severity,
  subject: string,
  message: string,
  fix?: string,
): Finding {
  return Object.freeze(
    fix === undefined ? { check, severity, subject, message } : { check, severity, subject, message, fix },
  );
}
