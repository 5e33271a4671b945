import { InvalidOptionError } from '../errors.js';
import type { Chunk, DeferredLiteral, Fragment } from './fragment.js';
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
  /** Which statement of the migration this is part of (for error messages). */
  readonly statement: number;
}

/** Statements ready to send, and the secret values that must never be printed. */
export interface ResolvedStatements {
  readonly executables: readonly Executable[];
  readonly secrets: readonly string[];
}

export interface ResolveOptions {
  /**
   * Inside a transaction, a statement that carries a secret is sent so that the secret is never
   * in any statement's text: it is bound as a parameter into a transaction-local setting, and a
   * DO block builds the statement from it. Server logs, pg_stat_activity, pg_stat_statements and
   * the runner's query log see only the setting's name. Outside a transaction that setting
   * would not outlive its own statement, so the secret is written as a quoted literal.
   */
  readonly transactional: boolean;
}

const SECRET_SETTING = 'pg_sync_link.secret_';

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

/** The secret-free form of a statement: SET the secrets, build and run it in a DO block, clear them. */
function throughSettings(parts: readonly (string | { secret: string })[], statement: number): Executable[] {
  const secrets = parts.filter((part): part is { secret: string } => typeof part !== 'string').map((part) => part.secret);
  const names = secrets.map((_, index) => quoteLiteral(`${SECRET_SETTING}${index + 1}`));
  const template = parts.map((part) => (typeof part === 'string' ? formatEscaped(part) : '%L')).join('');
  const args = names.map((name) => `, pg_catalog.current_setting(${name})`).join('');
  const body = `BEGIN EXECUTE pg_catalog.format(${quoteLiteral(template)}${args}); END`;
  let tag = '$pgsl$';
  for (let n = 1; (body + tag).indexOf(tag) !== body.length; n += 1) tag = `$pgsl${n}$`;
  return [
    { text: `SELECT ${names.map((name, index) => `pg_catalog.set_config(${name}, $${index + 1}, true)`).join(', ')}`, values: secrets, statement },
    { text: `DO ${tag}${body}${tag}`, values: [], statement },
    { text: `SELECT ${names.map((name) => `pg_catalog.set_config(${name}, '', true)`).join(', ')}`, values: [], statement },
  ];
}

/**
 * Resolves every deferred value of every statement before any is run, so a missing variable
 * or an unusable value stops the migration before it changes anything.
 */
export async function resolveStatements(statements: readonly Fragment[], options: ResolveOptions): Promise<ResolvedStatements> {
  const secrets: string[] = [];
  const executables: Executable[] = [];
  for (const [statement, fragment] of statements.entries()) {
    const parts: (string | { secret: string })[] = [];
    for (const chunk of fragment.chunks) {
      if (typeof chunk === 'string') {
        parts.push(chunk);
        continue;
      }
      const value = await resolveChunk(chunk);
      if (chunk.sensitive) {
        secrets.push(value);
        parts.push(options.transactional ? { secret: value } : quoteLiteral(value));
      } else {
        parts.push(quoteLiteral(value));
      }
    }
    if (parts.every((part) => typeof part === 'string')) {
      executables.push({ text: parts.join(''), values: [], statement });
    } else {
      executables.push(...throughSettings(parts, statement));
    }
  }
  return { executables, secrets };
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
