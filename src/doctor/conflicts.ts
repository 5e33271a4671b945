import { CONFLICT_LOG_COMMENT } from '../kinds/sync/sync-names.js';
import { quoteQualifiedName } from '../sql/index.js';
import { finding, type Finding } from './findings.js';
import type { Query } from './inventory.js';

/** Conflicts settled within this window are reported. */
const RECENT_HOURS = 24;

/**
 * Two-way outboxes' conflict logs, found by the comment their migration puts on them: conflicts
 * settled in the last 24 hours are a warning (each one is a write the policy overruled), with
 * where to read them. One cheap count per log.
 */
export async function conflictFindings(query: Query): Promise<Finding[]> {
  const logs = await query<{ schema: string; name: string }>(
    `SELECT n.nspname::text AS schema, c.relname::text AS name
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
     WHERE c.relkind = 'r' AND pg_catalog.starts_with(d.description, $1) ORDER BY 1, 2`,
    [`${CONFLICT_LOG_COMMENT} of `],
  );
  const findings: Finding[] = [];
  for (const log of logs) {
    const table = quoteQualifiedName(log);
    const subject = `conflict log ${table}`;
    const [counts] = await query<{ recent: string; total: string; last: string | null }>(
      `SELECT pg_catalog.count(*) FILTER (WHERE detected_at > pg_catalog.now() - interval '${RECENT_HOURS} hours')::text AS recent,
         pg_catalog.count(*)::text AS total, pg_catalog.max(detected_at)::text AS last FROM ${table}`,
    );
    const recent = Number(counts?.recent ?? 0);
    const total = Number(counts?.total ?? 0);
    if (recent > 0) {
      findings.push(
        finding(
          'conflicts',
          'warning',
          subject,
          `${recent} conflicts in the last ${RECENT_HOURS} hours (${total} in all, the last at ${counts!.last}): keys both sides changed between deliveries, settled by the declared policy; the losing side's version is in the log.`,
          `Read them with SELECT * FROM ${table} ORDER BY id DESC (or listConflicts(db)); delete rows you have reviewed.`,
        ),
      );
    } else {
      findings.push(
        finding('conflicts', 'ok', subject, `No conflicts in the last ${RECENT_HOURS} hours (${total} in all).`),
      );
    }
  }
  return findings;
}
