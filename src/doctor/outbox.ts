import { quoteQualifiedName } from '../sql/index.js';
import { finding, type Finding } from './findings.js';
import type { Query } from './inventory.js';

/** Pending changes older than this mean nothing is draining the outbox. */
const STALE_SECONDS = 300;

/**
 * Outboxes (syncs with delivery 'outbox'), found by their lag views `<table>__outbox_<server>_lag`:
 * failing deliveries and changes waiting too long are reported with what to run.
 */
export async function outboxFindings(query: Query): Promise<Finding[]> {
  const views = await outboxLagViews(query);
  const findings: Finding[] = [];
  for (const view of views) {
    const lagView = quoteQualifiedName({ schema: view.schema, name: view.name });
    const drain = quoteQualifiedName({ schema: view.schema, name: view.drain });
    const subject = `outbox ${lagView}`;
    // Read as JSON: an outbox made by an older version has no set_aside column.
    const [lag] = await query<{
      pending: string;
      age: number | null;
      failures: number;
      last_error: string | null;
      set_aside: string | null;
      held: string | null;
    }>(
      `SELECT pending::text, extract(epoch FROM oldest_pending_age)::float8 AS age, consecutive_failures AS failures, last_error,
         pg_catalog.to_jsonb(l) ->> 'set_aside' AS set_aside, pg_catalog.to_jsonb(l) ->> 'held' AS held FROM ${lagView} AS l`,
    );
    if (!lag) continue;
    const pending = Number(lag.pending);
    const setAside = Number(lag.set_aside ?? 0);
    if (setAside > 0) {
      const [, table, server] = /^(.*)__outbox_(.*)_lag$/.exec(view.name)!;
      const named = (name: string) => quoteQualifiedName({ schema: view.schema, name });
      findings.push(
        finding(
          'outbox',
          'error',
          subject,
          `${setAside} keys were set aside after the other side kept rejecting them (see ${named(`${table}__outbox_${server}_failed`)} for the error); ${Number(lag.held ?? 0)} later changes to them are held. Those rows differ on the two sides.`,
          `Fix the cause, then SELECT ${named(`${table}__retry_${server}`)}(); or give them up with SELECT ${named(`${table}__discard_${server}`)}().`,
        ),
      );
    }
    if (lag.failures > 0) {
      findings.push(
        finding(
          'outbox',
          'warning',
          subject,
          `${pending} changes wait; the last ${lag.failures} deliveries failed: ${lag.last_error ?? 'no message'}.`,
          `Fix the cause above (the other side down, or a row it refuses), then deliver with SELECT * FROM ${drain}() or let the worker (startOutboxWorker) retry.`,
        ),
      );
    } else if (lag.age !== null && lag.age > STALE_SECONDS) {
      findings.push(
        finding(
          'outbox',
          'warning',
          subject,
          `${pending} changes wait, the oldest for ${Math.round(lag.age)} s: nothing seems to drain this outbox.`,
          `Run a worker (startOutboxWorker({ connection, syncs: [...] })), or schedule SELECT * FROM ${drain}().`,
        ),
      );
    } else {
      findings.push(finding('outbox', 'ok', subject, `${pending} changes waiting; deliveries succeed.`));
    }
  }
  return findings;
}

/** The lag views `<table>__outbox_<server>_lag` of this database that have their drain function next to them (outboxes of ours). */
export async function outboxLagViews(query: Query): Promise<Array<{ schema: string; name: string; drain: string }>> {
  const views = await query<{ schema: string; name: string; drain: string | null }>(
    `SELECT n.nspname::text AS schema, c.relname::text AS name,
       (SELECT p.proname::text FROM pg_catalog.pg_proc p WHERE p.pronamespace = n.oid
          AND p.proname = pg_catalog.regexp_replace(c.relname, '__outbox_(.*)_lag$', '__drain_\\1')) AS drain
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'v' AND c.relname ~ '__outbox_.+_lag$' AND n.oid <> pg_catalog.pg_my_temp_schema() ORDER BY 1, 2`,
  );
  return views.flatMap((view) => (view.drain === null ? [] : [{ ...view, drain: view.drain }]));
}
