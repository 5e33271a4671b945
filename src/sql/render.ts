import { InvalidOptionError } from '../errors.js';
import type { Chunk, Fragment } from './fragment.js';
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

/** Statements ready to send, and the secret values that must never be printed. */
export interface ResolvedStatements {
  readonly texts: readonly string[];
  readonly secrets: readonly string[];
}

/**
 * Resolves every deferred value of every statement before any is run, so a missing variable
 * or an unusable value stops the migration before it changes anything.
 */
export async function resolveStatements(statements: readonly Fragment[]): Promise<ResolvedStatements> {
  const secrets: string[] = [];
  const texts: string[] = [];
  for (const statement of statements) {
    const parts: string[] = [];
    for (const chunk of statement.chunks) {
      if (typeof chunk === 'string') {
        parts.push(chunk);
        continue;
      }
      const value = await chunk.deferred.resolve(chunk.usedFor);
      if (chunk.sensitive) secrets.push(value);
      const problem = chunk.check?.(value);
      if (problem !== undefined) {
        // The value is named by its label only: it may be a secret.
        throw new InvalidOptionError(`The value of ${chunk.deferred.label} for ${chunk.usedFor} ${problem}`, chunk.usedFor);
      }
      parts.push(quoteLiteral(value));
    }
    texts.push(parts.join(''));
  }
  return { texts, secrets };
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
