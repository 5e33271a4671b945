import { parseArgs } from 'node:util';
import { backfillTables, reconcileTables, type BackfillResult } from 'pg-sync-link';
import { COMPARE_HELP, COMPARE_OPTIONS, compareTargets, wholeNumber } from './compare-args.js';
import { explained } from './exit-codes.js';
import { progressReporter } from './progress.js';
import { UsageError } from './exit-codes.js';

/** `pg-sync-link backfill --help`. */
export const BACKFILL_HELP = `Usage: pg-sync-link backfill --local-env <VAR> --remote-env <VAR> (<module> | <migrations> | --table <name> --key <a> --columns <a,b>)

Copies the rows of the local table that are missing or different on the remote side, after the
sync's column mapping, in batches (one transaction each). Interrupted (Ctrl-C, --max-batches, a
crash), it is finished by running it again: each run copies only what still differs. With
--winner, it reconciles instead: the other side is made equal to the winner, and rows only on
the losing side are deleted. Exit code 0 when done, 1 when differences remain (stopped early),
2 when the command line is wrong, 3 when it could not run (a module, variable, table or
column it names is missing, no connection, a server error).

${COMPARE_HELP}

Options:
  --batch-size <n>       rows per batch (default 10000)
  --max-batches <n>      stop after this many batches
  --winner <local|remote>  reconcile: make the other side equal to this one, deletes included
  --help                 show this help`;

/** Runs `pg-sync-link backfill`; returns the exit code (0 done, 1 stopped before the end). */
export async function backfillCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...COMPARE_OPTIONS,
      'batch-size': { type: 'string' },
      'max-batches': { type: 'string' },
      winner: { type: 'string' },
    },
  });
  if (values.help) {
    console.log(BACKFILL_HELP);
    return 0;
  }
  const batchSize = wholeNumber(values['batch-size'], 'batch-size', 1);
  const maxBatches = wholeNumber(values['max-batches'], 'max-batches', 0);
  const winner = values.winner;
  if (winner !== undefined && winner !== 'local' && winner !== 'remote')
    throw new UsageError(`--winner takes local or remote, got "${winner}".`);
  const { local, remote, pairs } = await compareTargets(values, positionals);
  // Ctrl-C or a TERM signal: finish the batch under way, then stop; the next run goes on from there.
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for (const pair of pairs) {
      const progress = progressReporter();
      let result: BackfillResult;
      try {
        const options = {
          local,
          remote,
          tables: pair.tables,
          onProgress: progress.report,
          signal: controller.signal,
          ...(batchSize ? { batchSize } : {}),
          ...(maxBatches !== undefined ? { maxBatches } : {}),
        };
        result = await explained(() => (winner ? reconcileTables({ ...options, winner }) : backfillTables(options)));
      } finally {
        progress.end();
      }
      const { before } = result;
      const found = `${before.missingOnRemote.length} missing on remote, ${before.missingOnLocal.length} missing on local, ${before.differing.length} differing`;
      const named = pairs.length === 1 ? '' : `${pair.name}: `;
      console.log(
        `${named}found ${found}; wrote ${result.written} rows, deleted ${result.deleted}, in ${result.batches} batches`,
      );
      if (!result.complete) {
        console.log('stopped before the end: run the same command again to go on');
        return 1;
      }
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
