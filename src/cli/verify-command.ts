import { parseArgs } from 'node:util';
import { verifyTables, type KeyValues, type VerifyResult } from 'pg-sync-link';
import { COMPARE_HELP, COMPARE_OPTIONS, compareTargets, wholeNumber } from './compare-args.js';
import { explained } from './exit-codes.js';
import { progressReporter } from './progress.js';

/** `pg-sync-link verify --help`. */
export const VERIFY_HELP = `Usage: pg-sync-link verify --local-env <VAR> --remote-env <VAR> (<module> | <migrations> | --table <name> --key <a> --columns <a,b>)

Compares a table with its counterpart on the other side, after the sync's column mapping, and
prints the counts and the keys missing on each side or whose values differ. Exit code 0 when
both sides are equal, 1 when they differ, 2 when the command line is wrong, 3 when it could
not run (a module, variable, table or column it names is missing, no connection, a server
error). With --json, a failure is printed on stdout as {"error": {...}} too.

${COMPARE_HELP}

Options:
  --limit <n>    keys to print for each kind of difference (default 10)
  --json         print the whole result as JSON instead
  --help         show this help`;

const keyText = (key: KeyValues) =>
  Object.entries(key)
    .map(([name, value]) => `${name}=${value === null ? 'NULL' : JSON.stringify(value)}`)
    .join(' ');

/** What verify prints: the counts, and the first `limit` keys of each kind of difference. */
export function describeResult(result: VerifyResult, limit: number): string {
  const lines = [`rows: ${result.counts.local} local, ${result.counts.remote} remote`];
  if (result.equal) return [...lines, 'equal'].join('\n');
  const kinds: [string, readonly KeyValues[]][] = [
    ['missing on remote', result.missingOnRemote],
    ['missing on local', result.missingOnLocal],
    ['differing', result.differing],
  ];
  for (const [label, keys] of kinds) {
    lines.push(`${label}: ${keys.length}`);
    for (const key of keys.slice(0, limit)) lines.push(`  ${keyText(key)}`);
    if (keys.length > limit) lines.push(`  ... and ${keys.length - limit} more`);
  }
  return lines.join('\n');
}

/** Runs `pg-sync-link verify`; returns the exit code (0 equal, 1 different). */
export async function verifyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...COMPARE_OPTIONS, limit: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(VERIFY_HELP);
    return 0;
  }
  const limit = wholeNumber(values.limit, 'limit', 0) ?? 10;
  const { local, remote, pairs } = await compareTargets(values, positionals);
  const results: Array<{ sync: string } & VerifyResult> = [];
  for (const pair of pairs) {
    const progress = progressReporter();
    let result: VerifyResult;
    try {
      result = await explained(() => verifyTables({ local, remote, tables: pair.tables, onProgress: progress.report }));
    } finally {
      progress.end();
    }
    results.push({ sync: pair.name, ...result });
    if (!values.json)
      console.log(
        pairs.length === 1 ? describeResult(result, limit) : `${pair.name}\n${describeResult(result, limit)}`,
      );
  }
  // One pair prints its result as before; the syncs of migrations print a list.
  if (values.json) console.log(JSON.stringify(pairs.length === 1 ? results[0] : results));
  return results.every((result) => result.equal) ? 0 : 1;
}
