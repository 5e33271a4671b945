#!/usr/bin/env node
import { fieldOf } from '../spec/guards.js';
import { readFileSync } from 'node:fs';
import { syncLinkErrorOf } from 'pg-sync-link';
import { backfillCommand } from './backfill-command.js';
import { doctorCommand } from './doctor.js';
import { EXIT, firstLine, UsageError } from './exit-codes.js';
import { generateCommand } from './generate.js';
import { sqlCommand } from './sql-command.js';
import { statusCommand } from './status-command.js';
import { verifyCommand } from './verify-command.js';

const HELP = `Usage: pg-sync-link <command> [options]

Commands:
  sql <module | folder> [--down]   print the SQL a link or migration module runs, secrets redacted
  generate <knex|kysely|umzug> <name> [--dir <folder>] [--ext <ext>]
                                   write a migration file to start from
  doctor [--url-env <NAME> | --knexfile <file> [--env <name>]] [--json]
                                   check the health of a database with pg-sync-link objects
  status [--url-env <NAME>... | --knexfile <file> [--env <name>...]] [--watch] [--json]
                                   one screen per database: links, syncs, outboxes, feeds
  verify --local-env <VAR> --remote-env <VAR> <module>
                                   compare a synced table on both sides, print what differs
  backfill --local-env <VAR> --remote-env <VAR> <module> [--winner <local|remote>]
                                   copy (or reconcile) the rows that differ, in resumable batches

Modules and knexfiles may be JavaScript or TypeScript (.ts, .mts, .cts).

Exit codes (every command):
  0  done: nothing wrong found, both sides equal
  1  findings: the doctor found a warning or an error, verify found differences,
     backfill stopped before the end
  2  usage: the command line is wrong (unknown command or option, a missing argument...)
  3  could not run: a file, module, variable, database, table or column is missing or
     unusable, or the server failed
With --json, a failure is also printed on stdout as {"error": {"code", "message", "exitCode"}}.

Options:
  --version, -v   print the version
  --help, -h      show this help

Run pg-sync-link <command> --help for a command's options.`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  sql: sqlCommand,
  generate: generateCommand,
  doctor: doctorCommand,
  status: statusCommand,
  verify: verifyCommand,
  backfill: backfillCommand,
};

function version(): string {
  // dist/cli.js sits next to the package's package.json, one folder up.
  // Our own package.json, which has a version.
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The exit code and the error code under --json for whatever a command threw. */
function classify(error: unknown): { exitCode: number; code: string } {
  const exitCode = fieldOf(error, 'exitCode');
  const code = fieldOf(error, 'code');
  if (error instanceof Error && typeof exitCode === 'number' && typeof code === 'string') return { exitCode, code };
  if (error instanceof Error && String(code).startsWith('ERR_PARSE_ARGS'))
    return { exitCode: EXIT.usage, code: 'USAGE' };
  const ours = syncLinkErrorOf(error);
  if (ours) return { exitCode: EXIT.cannotRun, code: ours.code };
  return { exitCode: EXIT.cannotRun, code: 'CANNOT_RUN' };
}

/** Node's own parse errors go on about `--`: the first sentence says it. */
function messageOf(error: unknown): string {
  const line = firstLine(error);
  return String(fieldOf(error, 'code')).startsWith('ERR_PARSE_ARGS')
    ? `${line.split('. ')[0]!.replace(/\.$/, '')}.`
    : line;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') {
    console.log(version());
    return EXIT.ok;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP);
    return EXIT.ok;
  }
  const json = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : undefined).includes('--json');
  const name = command && command in COMMANDS ? `pg-sync-link ${command}` : 'pg-sync-link';
  try {
    if (command === undefined) {
      console.error(HELP);
      return EXIT.usage;
    }
    const run = COMMANDS[command];
    if (!run)
      throw new UsageError(
        `Unknown command "${command}": use sql, generate, doctor, status, verify or backfill (pg-sync-link --help).`,
      );
    return await run(rest);
  } catch (error) {
    const { exitCode, code } = classify(error);
    const message = messageOf(error);
    const hint = exitCode === EXIT.usage && command && command in COMMANDS ? ` See ${name} --help.` : '';
    console.error(`${name}: ${message}${hint}`);
    if (json) console.log(JSON.stringify({ error: { code, message, exitCode } }));
    return exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));
