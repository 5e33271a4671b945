import { fieldOf, isRecord, messageOf } from '../spec/guards.js';
import { parseArgs } from 'node:util';
import { diagnose, formatDiagnosis } from 'pg-sync-link';
import { onDatabase } from './connect.js';
import { CannotRunError, UsageError, firstLine } from './exit-codes.js';
import { loadModule } from './load-module.js';

/** `pg-sync-link doctor --help`. */
export const DOCTOR_HELP = `Usage: pg-sync-link doctor [--url-env <NAME> | --knexfile <file> [--env <name>]] [--json]

Checks the health of a database where pg-sync-link objects are installed: postgres_fdw, every
foreign server (through a real connection), the user mappings the sync triggers run with, the
PostgreSQL version, foreign tables against the remote's columns, sync triggers, and the
headroom of shared-id sequences. Each finding is ok, a warning or an error, with what to run to
fix it. The doctor changes nothing: it works in a transaction it rolls back.

Connection (a password never goes on the command line):
  --url-env <NAME>      read the database URL from the environment variable NAME
                        (default: DATABASE_URL)
  --knexfile <file>     use the connection of a knexfile environment instead (.js, .mjs,
                        .cjs, or TypeScript: .ts, .mts, .cts)
  --env <name>          that environment (default: NODE_ENV, else development)

Options:
  --json                print the diagnosis as JSON
  --sequence-warn <n>   warn when a shared-id sequence has used this share of its range
                        (default 0.8)
  --help                show this help

Exit code: 0 every finding ok, 1 a warning or an error (the output says which), 2 the
command line is wrong, 3 the doctor could not run (no such variable, knexfile or environment,
no connection). With --json, a failure is printed on stdout as {"error": {...}} too.`;

const OPTIONS = {
  'url-env': { type: 'string' },
  knexfile: { type: 'string' },
  env: { type: 'string' },
  json: { type: 'boolean' },
  'sequence-warn': { type: 'string' },
  help: { type: 'boolean' },
} as const;

function parse(args: string[]) {
  try {
    // Positionals are taken only to refuse them: node's own message would print them, and a
    // misplaced URL holds a password.
    return parseArgs({ args, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    const code = fieldOf(error, 'code');
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && /'--(url|password|host)'/.test(messageOf(error))) {
      throw new UsageError(
        'doctor takes no URL or password on the command line: put the URL in an environment variable and pass its name with --url-env NAME.',
      );
    }
    throw error;
  }
}

/** A database to connect to, as the doctor and status commands take it. */
export interface Connection {
  readonly target: string | Record<string, unknown>;
  /** Values to scrub from any message. */
  readonly secrets: readonly string[];
  readonly describe: string;
}

function urlSecrets(url: string): string[] {
  try {
    const password = new URL(url).password;
    return password ? [password, decodeURIComponent(password), url] : [url];
  } catch {
    return [url];
  }
}

/** The connection of a knexfile environment. */
export async function fromKnexfile(file: string, environment: string): Promise<Connection> {
  const module = await loadModule(file, 'knexfile');
  let config: unknown = module.default ?? module;
  if (typeof config === 'function') config = await config();
  const all = isRecord(config) ? config : {};
  const chosen = 'client' in all || 'connection' in all ? all : all[environment];
  if (!isRecord(chosen)) {
    throw new CannotRunError(
      `${file} has no environment "${environment}"; it has: ${Object.keys(all).join(', ') || 'none'}. Choose one with --env.`,
    );
  }
  const client = chosen.client;
  if (typeof client === 'string' && !['pg', 'postgres', 'postgresql'].includes(client)) {
    throw new CannotRunError(
      `The "${environment}" environment of ${file} uses client "${client}"; the doctor needs a PostgreSQL (pg) connection.`,
    );
  }
  let connection = chosen.connection;
  if (typeof connection === 'function') connection = await connection();
  if (typeof connection === 'string')
    return {
      target: connection,
      secrets: urlSecrets(connection),
      describe: `the "${environment}" environment of ${file}`,
    };
  if (isRecord(connection)) {
    const options = connection;
    const secrets = [options.password, options.connectionString].filter(
      (value): value is string => typeof value === 'string' && value !== '',
    );
    return {
      target: options,
      secrets: secrets.flatMap((value) => (value.includes('://') ? urlSecrets(value) : [value])),
      describe: `the "${environment}" environment of ${file}`,
    };
  }
  throw new CannotRunError(`The "${environment}" environment of ${file} has no connection.`);
}

/** The connection whose URL an environment variable holds. */
export function fromEnvironment(variable: string): Connection {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable))
    throw new UsageError('--url-env takes the name of an environment variable (letters, digits and _), not a URL.');
  const url = process.env[variable];
  if (!url)
    throw new CannotRunError(
      `Environment variable ${variable} is not set: set it to the database URL (postgres://user:password@host:5432/db), or name another with --url-env.`,
    );
  return { target: url, secrets: urlSecrets(url), describe: `$${variable}` };
}

/** `text` with every secret replaced by [redacted]. */
export function scrub(text: string, secrets: readonly string[]): string {
  return [...secrets]
    .sort((a, b) => b.length - a.length)
    .reduce((scrubbed, value) => scrubbed.replaceAll(value, '[redacted]'), text);
}

/** Runs `pg-sync-link doctor`; returns the exit code. */
export async function doctorCommand(args: string[]): Promise<number> {
  let connection: Connection | undefined;
  try {
    const { values, positionals } = parse(args);
    if (values.help) {
      console.log(DOCTOR_HELP);
      return 0;
    }
    if (positionals.length > 0) {
      throw new UsageError(
        'doctor takes no arguments: pass the database URL through an environment variable (--url-env NAME) or a knexfile (--knexfile).',
      );
    }
    if (values.knexfile !== undefined && values['url-env'] !== undefined)
      throw new UsageError('Give either --url-env or --knexfile, not both.');
    if (values.env !== undefined && values.knexfile === undefined)
      throw new UsageError('--env chooses a knexfile environment: give --knexfile too.');
    const warnAt = values['sequence-warn'] === undefined ? undefined : Number(values['sequence-warn']);
    if (warnAt !== undefined && !(warnAt > 0 && warnAt <= 1))
      throw new UsageError('--sequence-warn takes a share above 0 and at most 1, e.g. 0.8.');
    connection =
      values.knexfile !== undefined
        ? await fromKnexfile(values.knexfile, values.env ?? process.env.NODE_ENV ?? 'development')
        : fromEnvironment(values['url-env'] ?? 'DATABASE_URL');
    const diagnosis = await diagnoseThrough(connection.target, warnAt);
    console.log(values.json ? JSON.stringify(diagnosis, null, 2) : formatDiagnosis(diagnosis));
    return diagnosis.exitCode;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const secrets = connection?.secrets ?? [];
    if (error instanceof CannotRunError && !connection)
      throw new CannotRunError(scrub(error.message, secrets), { cause: error });
    const where = connection ? ` (${connection.describe})` : '';
    throw new CannotRunError(`could not check the database${where}: ${scrub(firstLine(error), secrets)}`, {
      cause: error,
    });
  }
}

function diagnoseThrough(target: Connection['target'], sequenceWarnAt: number | undefined) {
  return onDatabase(target, 'The doctor', (db) => diagnose(db, { sequenceWarnAt }));
}
