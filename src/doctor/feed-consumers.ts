import { literal, previewSql, quoteQualifiedName } from '../sql/index.js';
import { finding, type Finding } from './findings.js';
import type { Query } from './inventory.js';

/** A named consumer whose oldest unreceived change is older than this is lagging. */
const LAGGING_SECONDS = 300;

/**
 * Named consumers of change feeds, found by the feeds' lag views `<table>__changes_lag`: one
 * that has not received changes for a while is reported (it also holds back pruning).
 */
export async function feedConsumerFindings(query: Query): Promise<Finding[]> {
  const views = await feedLagViews(query);
  const findings: Finding[] = [];
  for (const view of views) {
    const lagView = quoteQualifiedName({ schema: view.schema, name: view.name });
    const cursors = quoteQualifiedName({ schema: view.schema, name: view.cursors });
    const consumers = await query<{ consumer: string; pending: string; age: number | null; checkpointed: number }>(
      `SELECT consumer, pending::text, extract(epoch FROM oldest_pending_age)::float8 AS age,
         extract(epoch FROM pg_catalog.now() - checkpointed_at)::float8 AS checkpointed FROM ${lagView} ORDER BY consumer`,
    );
    for (const consumer of consumers) {
      const subject = `change feed consumer ${JSON.stringify(consumer.consumer)} (${lagView})`;
      if (consumer.age !== null && consumer.age > LAGGING_SECONDS) {
        findings.push(
          finding(
            'feed-consumer',
            'warning',
            subject,
            `${consumer.pending} changes wait for it, the oldest for ${Math.round(consumer.age)} s; it last checkpointed ${Math.round(consumer.checkpointed)} s ago. Pruning keeps them for it.`,
            `Start or fix that consumer (listenToChanges with consumer: ${JSON.stringify(consumer.consumer)}); if it is gone for good, drop its position: DELETE FROM ${cursors} WHERE consumer = ${previewSql(literal(consumer.consumer))}.`,
          ),
        );
      } else {
        findings.push(finding('feed-consumer', 'ok', subject, `${consumer.pending} changes waiting for it.`));
      }
    }
  }
  return findings;
}

/** The change feeds' lag views `<table>__changes_lag` of this database, with their cursors table. */
export async function feedLagViews(query: Query): Promise<Array<{ schema: string; name: string; cursors: string }>> {
  return query<{ schema: string; name: string; cursors: string }>(
    `SELECT n.nspname::text AS schema, c.relname::text AS name, k.relname::text AS cursors
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_catalog.pg_class k ON k.relnamespace = n.oid AND k.relkind = 'r'
       AND k.relname = pg_catalog.regexp_replace(c.relname, '__changes_lag$', '__changes_cursors')
     WHERE c.relkind = 'v' AND c.relname ~ '__changes_lag$' AND n.oid <> pg_catalog.pg_my_temp_schema() ORDER BY 1, 2`,
  );
}
