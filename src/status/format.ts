import type { Severity } from '../doctor/findings.js';
import type { SyncLinkStatus } from './types.js';

const LABEL: Record<Severity, string> = { ok: 'ok     ', warning: 'WARNING', error: 'ERROR  ' };

/** Seconds as a person reads them: `42 s`, `3 min`, `2 h`. */
function age(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/** Rows as aligned columns under a header. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, at) => Math.max(title.length, ...rows.map((row) => row[at]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, at) => (at === cells.length - 1 ? cell : cell.padEnd(widths[at]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].map((text) => `  ${text}`);
}

/**
 * One database's status as a screen: links, syncs, outboxes, feeds, then what needs attention
 * (warnings and errors, with the doctor's fix) and the exit code.
 */
export function formatStatus(status: SyncLinkStatus, heading = status.database): string {
  const lines = [
    `pg-sync-link status: ${heading} (PostgreSQL ${status.serverVersion}) at ${status.readAt.toISOString()}`,
  ];
  lines.push('', `Links (${status.links.length})`);
  lines.push(
    ...(status.links.length === 0
      ? ['  none']
      : table(
          ['server', 'reachable', 'target'],
          status.links.map((link) => [
            link.server,
            link.reachable === null ? 'not tested' : link.reachable ? 'yes' : 'NO',
            link.target,
          ]),
        )),
  );
  lines.push('', `Syncs (${status.syncs.length})`);
  lines.push(
    ...(status.syncs.length === 0
      ? ['  none']
      : table(
          ['table', 'to server', 'mode', 'enabled', 'last error'],
          status.syncs.map((sync) => [
            sync.table,
            sync.server,
            sync.mode,
            sync.enabled ? 'yes' : 'NO',
            sync.lastError ?? '-',
          ]),
        )),
  );
  lines.push('', `Outboxes (${status.outboxes.length})`);
  lines.push(
    ...(status.outboxes.length === 0
      ? ['  none']
      : table(
          ['sync', 'pending', 'oldest', 'rate/s', 'failed rows', 'delivered', 'error'],
          status.outboxes.map((outbox) => [
            outbox.sync,
            String(outbox.pending),
            age(outbox.oldestPendingSeconds),
            outbox.deliveredPerSecond === null ? '-' : outbox.deliveredPerSecond.toFixed(1),
            outbox.held > 0 ? `${outbox.failedRows} (+${outbox.held} held)` : String(outbox.failedRows),
            String(outbox.deliveredTotal),
            outbox.currentError ?? '-',
          ]),
        )),
  );
  const consumers = status.feeds.flatMap((feed) => feed.consumers.map((consumer) => ({ feed, consumer })));
  lines.push('', `Feeds (${status.feeds.length})`);
  lines.push(
    ...(status.feeds.length === 0
      ? ['  none']
      : consumers.length === 0
        ? status.feeds.map((feed) => `  ${feed.lagView}: no named consumers`)
        : table(
            ['feed', 'consumer', 'pending', 'lag', 'checkpointed'],
            consumers.map(({ feed, consumer }) => [
              feed.lagView,
              consumer.consumer,
              String(consumer.pending),
              age(consumer.lagSeconds),
              `${age(consumer.checkpointedSecondsAgo)} ago`,
            ]),
          )),
  );
  lines.push(
    '',
    `Conflicts (${status.conflicts.length} in the last 24 h${status.conflicts.length === 10 ? ', the newest 10' : ''})`,
  );
  lines.push(
    ...(status.conflicts.length === 0
      ? ['  none']
      : table(
          ['when', 'sync', 'key', 'winner', 'policy'],
          status.conflicts.map((conflict) => [
            conflict.detectedAt.toISOString(),
            conflict.sync,
            JSON.stringify(conflict.key),
            conflict.winner,
            conflict.policy,
          ]),
        )),
  );
  const attention = status.findings.filter((item) => item.severity !== 'ok');
  if (attention.length > 0) {
    lines.push('', 'Needs attention');
    for (const item of attention) {
      lines.push(`  ${LABEL[item.severity]} [${item.check}] ${item.subject}: ${item.message}`);
      if (item.fix) lines.push(`          fix: ${item.fix}`);
    }
  }
  lines.push(
    '',
    `${attention.length === 0 ? 'All ok' : `${attention.length} to look at`} (exit code ${status.exitCode}).`,
  );
  return lines.join('\n');
}
