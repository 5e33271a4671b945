import { parseArgs } from 'node:util';
import { formatStatus, status, type SyncLinkStatus } from 'pg-sync-link';
import { onDatabase } from './connect.js';
import { fromEnvironment, fromKnexfile, scrub, type Connection } from './doctor.js';
import { CannotRunError, EXIT, UsageError, firstLine } from './exit-codes.js';
import { watchLoop } from './watch.js';

/** `pg-sync-link status --help`. */
export const STATUS_HELP = `Usage: pg-sync-link status [--url-env <NAME>... | --knexfile <file> [--env <name>...]] [--watch] [--json]

Shows one screen per database: its links (reachable now?), its syncs (mode, enabled, last
error), its outboxes (pending, oldest, delivery rate, failed rows), its change feeds' consumers
(pending, lag), and what needs attention, worded as the doctor words it. Changes nothing.

Connection (a password never goes on the command line):
  --url-env <NAME>      read a database URL from the environment variable NAME; repeat it for
                        more databases (default: DATABASE_URL)
  --knexfile <file>     use the connection of a knexfile environment instead
  --env <name>          that environment (default: NODE_ENV, else development); repeat it for
                        more databases

Options:
  --watch               read again every --interval seconds until Ctrl-C: in place on a
                        terminal, as blocks one after another otherwise; rates need it
  --interval <seconds>  between two reads under --watch (default 2)
  --count <n>           under --watch, stop after n reads (default: until Ctrl-C)
  --timeout <seconds>   bounds each read and each connection (default 10)
  --json                print JSON: {"databases": [...], "exitCode"}; under --watch, one line a read
  --help                show this help

Exit code: 0 all ok, 1 a warning or an error (the output says which), 2 the command line is
wrong, 3 a database could not be read. Under --watch, those of the last read.`;

const OPTIONS = {
  'url-env': { type: 'string', multiple: true },
  knexfile: { type: 'string' },
  env: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  watch: { type: 'boolean' },
  interval: { type: 'string' },
  count: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean' },
} as const;

function number(value: string | undefined, fallback: number, option: string, whole: boolean): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!(parsed > 0) || !Number.isFinite(parsed) || (whole && !Number.isSafeInteger(parsed)))
    throw new UsageError(`--${option} takes a positive ${whole ? 'whole number' : 'number of seconds'}, e.g. 2.`);
  return parsed;
}

/** One database's screen, or why it could not be read (secrets scrubbed). */
type Screen = { connection: Connection; status: SyncLinkStatus } | { connection: Connection; error: string };

async function readOne(
  connection: Connection,
  timeoutMs: number,
  previous: SyncLinkStatus | undefined,
): Promise<SyncLinkStatus> {
  return onDatabase(connection.target, 'The status command', (db) => status(db, { timeoutMs, previous }), {
    connectionTimeoutMillis: timeoutMs,
  });
}

function render(screens: readonly Screen[]): string {
  return screens
    .map((screen) =>
      'status' in screen
        ? formatStatus(screen.status, `${screen.status.database} (${screen.connection.describe})`)
        : `pg-sync-link status: ${screen.connection.describe}: could not read it: ${screen.error} (exit code 3).`,
    )
    .join('\n\n');
}

function exitCodeOf(screens: readonly Screen[]): number {
  if (screens.some((screen) => 'error' in screen)) return EXIT.cannotRun;
  return screens.some((screen) => 'status' in screen && screen.status.exitCode !== 0) ? EXIT.findings : EXIT.ok;
}

function asJson(screens: readonly Screen[], pretty: boolean): string {
  const databases = screens.map((screen) =>
    'status' in screen
      ? { source: screen.connection.describe, ...screen.status }
      : { source: screen.connection.describe, error: screen.error },
  );
  return JSON.stringify({ databases, exitCode: exitCodeOf(screens) }, null, pretty ? 2 : undefined);
}

/** Runs `pg-sync-link status`; returns the exit code. */
export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  if (values.help) {
    console.log(STATUS_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0)
    throw new UsageError(
      'status takes no arguments: pass database URLs through environment variables (--url-env NAME) or a knexfile (--knexfile).',
    );
  if (values.knexfile !== undefined && values['url-env'] !== undefined)
    throw new UsageError('Give either --url-env or --knexfile, not both.');
  if (values.env !== undefined && values.knexfile === undefined)
    throw new UsageError('--env chooses a knexfile environment: give --knexfile too.');
  if (!values.watch && (values.interval !== undefined || values.count !== undefined))
    throw new UsageError('--interval and --count go with --watch.');
  const intervalMs = number(values.interval, 2, 'interval', false) * 1000;
  const count = values.count === undefined ? undefined : number(values.count, 1, 'count', true);
  const timeoutMs = Math.round(number(values.timeout, 10, 'timeout', false) * 1000);

  const knexfile = values.knexfile;
  const connections: Connection[] =
    knexfile !== undefined
      ? await Promise.all(
          (values.env ?? [process.env.NODE_ENV ?? 'development']).map((environment) =>
            fromKnexfile(knexfile, environment),
          ),
        )
      : (values['url-env'] ?? ['DATABASE_URL']).map(fromEnvironment);
  const secrets = connections.flatMap((connection) => connection.secrets);

  let previous: Array<SyncLinkStatus | undefined> = [];
  const read = async (): Promise<Screen[]> => {
    const screens = await Promise.all(
      connections.map(async (connection, at): Promise<Screen> => {
        try {
          return { connection, status: await readOne(connection, timeoutMs, previous[at]) };
        } catch (error) {
          return { connection, error: scrub(firstLine(error), secrets) };
        }
      }),
    );
    previous = screens.map((screen) => ('status' in screen ? screen.status : undefined));
    return screens;
  };

  if (!values.watch) {
    const screens = await read();
    const failed = screens.find((screen): screen is Screen & { error: string } => 'error' in screen);
    if (failed && !values.json)
      throw new CannotRunError(`could not read ${failed.connection.describe}: ${failed.error}`);
    console.log(values.json ? asJson(screens, true) : render(screens));
    return exitCodeOf(screens);
  }
  let last: Screen[] = [];
  await watchLoop({
    intervalMs,
    count,
    refresh: async () => {
      last = await read();
      return values.json ? asJson(last, false) : render(last);
    },
    inPlace: !values.json && process.stdout.isTTY === true,
  });
  return exitCodeOf(last);
}
