import { conflictFindings } from '../doctor/conflicts.js';
import { exitCodeOf, worstOf } from '../doctor/findings.js';
import { queryOf, readInventory, type Query } from '../doctor/inventory.js';
import { InvalidOptionError } from '../errors.js';
import { listConflicts } from '../outbox/conflict-log.js';
import type { SqlExecutor } from '../run/execute.js';
import { newPgClient, withSession, type DatabaseTarget } from '../run/session.js';
import { readFeeds, readLinks, readOutboxes, readSyncs } from './sections.js';
import type { StatusOptions, SyncLinkStatus } from './types.js';

/**
 * One screen of a database's pg-sync-link state: its links (reachable now?), its syncs (mode,
 * enabled, last error), its outboxes (pending, oldest age, rate, failed rows) and its change
 * feeds' consumers (lag), with the doctor's findings about them and the doctor's exit code.
 *
 * It changes nothing: it reads in one transaction that it rolls back, each statement bounded by
 * `timeoutMs` (the connection too, when given a connection string). Give it a connection
 * string, a pg Pool, or a pg Client not in a transaction. Pass the status read before as
 * `previous` to get outbox delivery rates.
 *
 * @example
 * const now = await status(process.env.DATABASE_URL!);
 * for (const outbox of now.outboxes) console.log(outbox.sync, outbox.pending);
 */
export async function status(target: DatabaseTarget, options: StatusOptions = {}): Promise<SyncLinkStatus> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)
    throw new InvalidOptionError('timeoutMs must be a positive whole number of milliseconds.', 'timeoutMs');
  if (typeof target !== 'string')
    return withSession(target, (session) => readStatus(session.execute, timeoutMs, options));
  const client = await newPgClient({ connectionString: target, connectionTimeoutMillis: timeoutMs }, 'status()');
  try {
    await client.connect();
    return await withSession(client, (session) => readStatus(session.execute, timeoutMs, options));
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function readStatus(execute: SqlExecutor, timeoutMs: number, options: StatusOptions): Promise<SyncLinkStatus> {
  const query: Query = queryOf(execute);
  // Its own transaction, always rolled back (the link probes make temporary foreign tables).
  const [fresh] = await query<{ outside: boolean }>(
    'SELECT pg_catalog.now() = pg_catalog.statement_timestamp() AS outside',
  );
  if (!fresh?.outside)
    throw new InvalidOptionError(
      'status needs a connection that is not in a transaction: it runs its own and rolls it back.',
      'db',
    );
  await query('BEGIN');
  try {
    await query(`SELECT pg_catalog.set_config('statement_timeout', $1, true)`, [String(timeoutMs)]);
    const [about] = await query<{ database: string; read_at: Date }>(
      'SELECT pg_catalog.current_database()::text AS database, pg_catalog.statement_timestamp() AS read_at',
    );
    const inventory = await readInventory(query);
    const links = await readLinks(query, inventory);
    const outboxes = await readOutboxes(query, options.previous, about!.read_at);
    const syncs = await readSyncs(query, inventory, outboxes.views, outboxes.outboxes);
    const feeds = await readFeeds(query);
    // On this session, in this transaction: listConflicts takes it as a client.
    const conflicts = await listConflicts(
      { query: (text: string, values?: unknown[]) => execute(text, (values ?? []) as string[]) },
      { since: new Date(about!.read_at.getTime() - 24 * 3600 * 1000), limit: 10 },
    );
    const findings = [
      ...links.findings,
      ...syncs.findings,
      ...outboxes.findings,
      ...feeds.findings,
      ...(await conflictFindings(query)),
    ];
    const worst = worstOf(findings);
    return {
      database: about!.database,
      serverVersion: inventory.version,
      readAt: about!.read_at,
      links: links.links,
      syncs: syncs.syncs,
      outboxes: outboxes.outboxes.map((outbox) => ({
        ...outbox,
        sync: syncs.outboxLabels.get(outbox.lagView) ?? outbox.sync,
      })),
      feeds: feeds.feeds,
      conflicts,
      findings,
      worst,
      exitCode: exitCodeOf(worst),
    };
  } finally {
    await query('ROLLBACK').catch(() => undefined);
  }
}
