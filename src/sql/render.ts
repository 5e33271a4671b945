import { InvalidOptionError } from '../errors.js';
import { dollarQuote, sql, type Chunk, type DeferredLiteral, type Fragment } from './fragment.js';
import { raiseException } from './plpgsql.js';
import { quoteLiteral } from './literal.js';

function previewChunk(chunk: Chunk): string {
  if (typeof chunk === 'string') return chunk;
  const label = chunk.sensitive ? `redacted ${chunk.deferred.label}` : chunk.deferred.label;
  return quoteLiteral(`[${label}]`);
}

/** The statement as a person may read it: deferred values show their label, secrets never show. */
export function previewSql(statement: Fragment): string {
  return statement.chunks.map(previewChunk).join('');
}

/** One statement to send: `values` fill `$1`, `$2`... in `text` (only ever in our own statements). */
export interface Executable {
  readonly text: string;
  readonly values: readonly string[];
}

/**
 * What one statement of a migration becomes on the wire. A statement that carries a secret is
 * sent so that the secret is never in any statement's text: `setup` binds it as a parameter
 * into a session setting, `main` is a DO block that builds the statement from the setting, and
 * `cleanup` clears the setting, and must run whether `main` succeeded or not. Server logs,
 * pg_stat_activity, pg_stat_statements and the runner's query log see only the setting's name.
 * A session setting (not a transaction-local one) so this works in autocommit mode too; inside
 * a transaction that rolls back, PostgreSQL restores the setting by itself.
 */
export interface ResolvedStatement {
  /** Turns off the logging of bind parameters for the session, where the role may (see QUIET). */
  readonly before?: Executable;
  readonly setup?: Executable;
  readonly main: Executable;
  readonly cleanup?: Executable;
  /** Restores the logging of bind parameters; runs whether `main` succeeded or not. */
  readonly after?: Executable;
}

/** Statements ready to send, and the secret values that must never be printed. */
export interface ResolvedStatements {
  readonly statements: readonly ResolvedStatement[];
  readonly secrets: readonly string[];
}

const SECRET_SETTING = 'pg_sync_link.secret_';

// A server that logs statements (log_statement = all, log_min_duration_statement) also logs
// their bind parameters, the bound secret among them, unless log_parameter_max_length is 0.
// Superusers (and, on PostgreSQL 15+, roles granted SET on it) may set it for the session:
// it is set to 0 around the bind and restored after. Other roles keep the server's setting
// (undefined_object: a server older than 13 has no such setting and logs no parameters).
const QUIET = {
  before: `DO $pgsl$BEGIN
  PERFORM pg_catalog.set_config('pg_sync_link.saved_log_parameter_max_length', pg_catalog.current_setting('log_parameter_max_length'), false);
  PERFORM pg_catalog.set_config('log_parameter_max_length', '0', false);
EXCEPTION WHEN insufficient_privilege OR undefined_object THEN NULL;
END$pgsl$`,
  after: `DO $pgsl$BEGIN
  IF pg_catalog.current_setting('pg_sync_link.saved_log_parameter_max_length', true) <> '' THEN
    PERFORM pg_catalog.set_config('log_parameter_max_length', pg_catalog.current_setting('pg_sync_link.saved_log_parameter_max_length'), false);
    PERFORM pg_catalog.set_config('pg_sync_link.saved_log_parameter_max_length', '', false);
  END IF;
EXCEPTION WHEN insufficient_privilege OR undefined_object THEN NULL;
END$pgsl$`,
} as const;

async function resolveChunk(chunk: DeferredLiteral): Promise<string> {
  const value = await chunk.deferred.resolve(chunk.usedFor);
  const problem = chunk.check?.(value);
  if (problem !== undefined) {
    // The value is named by its label only: it may be a secret.
    throw new InvalidOptionError(`The value of ${chunk.deferred.label} for ${chunk.usedFor} ${problem}`, chunk.usedFor);
  }
  return value;
}

/** `format()`'s own escape: a literal percent sign in the format string is written %%. */
function formatEscaped(text: string): string {
  return text.replaceAll('%', '%%');
}

function throughSettings(parts: readonly (string | { secret: string })[]): ResolvedStatement {
  const secrets = parts
    .filter((part): part is { secret: string } => typeof part !== 'string')
    .map((part) => part.secret);
  const names = secrets.map((_, index) => quoteLiteral(`${SECRET_SETTING}${index + 1}`));
  const template = parts.map((part) => (typeof part === 'string' ? formatEscaped(part) : '%L')).join('');
  const args = names.map((name) => `, pg_catalog.current_setting(${name})`).join('');
  // A failing EXECUTE's error context quotes the statement it ran, secret included, into the
  // client's error and the server log: the error is raised again from here, without that context.
  const body = [
    'DECLARE failure_state text; failure_message text; failure_detail text; failure_hint text;',
    `BEGIN EXECUTE pg_catalog.format(${quoteLiteral(template)}${args});`,
    'EXCEPTION WHEN OTHERS THEN',
    'GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure_message = MESSAGE_TEXT, failure_detail = PG_EXCEPTION_DETAIL, failure_hint = PG_EXCEPTION_HINT;',
    previewSql(
      raiseException({
        errcode: sql`failure_state`,
        message: sql`failure_message`,
        detail: sql`failure_detail`,
        hint: sql`failure_hint`,
      }),
    ),
    'END',
  ].join(' ');
  return {
    before: { text: QUIET.before, values: [] },
    setup: {
      text: `SELECT ${names.map((name, index) => `pg_catalog.set_config(${name}, $${index + 1}, false)`).join(', ')}`,
      values: secrets,
    },
    main: { text: `DO ${dollarQuote(body)}`, values: [] },
    cleanup: {
      text: `SELECT ${names.map((name) => `pg_catalog.set_config(${name}, '', false)`).join(', ')}`,
      values: [],
    },
    after: { text: QUIET.after, values: [] },
  };
}

/**
 * Resolves every deferred value of every statement before any is run, so a missing variable
 * or an unusable value stops the migration before it changes anything.
 */
export async function resolveStatements(fragments: readonly Fragment[]): Promise<ResolvedStatements> {
  const secrets: string[] = [];
  const statements: ResolvedStatement[] = [];
  for (const fragment of fragments) {
    const parts: (string | { secret: string })[] = [];
    for (const chunk of fragment.chunks) {
      if (typeof chunk === 'string') {
        parts.push(chunk);
        continue;
      }
      const value = await resolveChunk(chunk);
      if (chunk.sensitive) secrets.push(value);
      parts.push(chunk.sensitive ? { secret: value } : quoteLiteral(value));
    }
    const plain = parts.every((part) => typeof part === 'string');
    statements.push(plain ? { main: { text: parts.join(''), values: [] } } : throughSettings(parts));
  }
  return { statements, secrets };
}

/** Replaces every secret value in `text` (raw or as it appears quoted) with [redacted]. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text;
  const forms = secrets.flatMap((value) => {
    const quotesDoubled = value.replaceAll("'", "''");
    return [quoteLiteral(value), quotesDoubled.replaceAll('\\', '\\\\'), quotesDoubled, value];
  });
  // Longest first, so a quoted form is replaced whole before its inner value.
  for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length)) {
    if (form.length > 0) scrubbed = scrubbed.replaceAll(form, '[redacted]');
  }
  return scrubbed;
}
