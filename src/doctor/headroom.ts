import { quoteIdentifier } from '../sql/index.js';
import { finding, type Finding } from './findings.js';
import type { SequenceUse } from './inventory.js';

/** A sequence warns once it has handed out this share of its range (0.8 = 80 %). */
export const DEFAULT_SEQUENCE_WARN_AT = 0.8;

export interface Headroom {
  /** How many more values nextval can return. */
  readonly remaining: bigint;
  /** The share of the range used so far, 0 to 1. */
  readonly used: number;
}

/** What is left of a sequence's range, from its definition and last value (null: never called). */
export function headroomOf(sequence: Pick<SequenceUse, 'min' | 'max' | 'increment' | 'start' | 'last'>): Headroom {
  const { min, max, increment, start, last } = sequence;
  const up = increment > 0n;
  const next = last === null ? start : last + increment;
  const step = up ? increment : -increment;
  const left = up ? max - next : next - min;
  const remaining = left < 0n ? 0n : left / step + 1n;
  const range = max - min + 1n;
  const consumed = up ? next - min : max - next;
  const used = consumed <= 0n ? 0 : consumed >= range ? 1 : Number((consumed * 1_000_000n) / range) / 1_000_000;
  return { remaining, used };
}

/** ok below `warnAt` of the range used, a warning from there, an error when no value is left. */
export function headroomFindings(sequences: readonly SequenceUse[], warnAt = DEFAULT_SEQUENCE_WARN_AT): Finding[] {
  return sequences.map((sequence) => {
    const subject = `sequence ${sequence.sequence}`;
    if (!sequence.readable) {
      return finding(
        'sequence-headroom',
        'warning',
        subject,
        `Cannot read the position of ${sequence.role}: this role has no SELECT or USAGE on it.`,
        `Run the doctor as the sequence's owner, or GRANT SELECT ON SEQUENCE ${sequence.sequence} TO the doctor's role.`,
      );
    }
    const { remaining, used } = headroomOf(sequence);
    const percent = `${(used * 100).toFixed(1)} %`;
    const position = `at ${sequence.last ?? 'its start'} of ${sequence.min}..${sequence.max}, step ${sequence.increment}`;
    const widen = widening(sequence);
    if (remaining === 0n) {
      return finding(
        'sequence-headroom',
        'error',
        subject,
        `${capitalised(sequence.role)} is exhausted (${position}): the next nextval fails, and so does every insert that needs an id.`,
        widen,
      );
    }
    if (used >= warnAt) {
      return finding(
        'sequence-headroom',
        'warning',
        subject,
        `${capitalised(sequence.role)} has used ${percent} of its range (${position}); ${remaining} values are left.`,
        widen,
      );
    }
    return finding(
      'sequence-headroom',
      'ok',
      subject,
      `${capitalised(sequence.role)} has used ${percent} of its range; ${remaining} values are left.`,
    );
  });
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const BIGINT_MAX = 9223372036854775807n;

/** What to run to give a sequence more room, by what it does. */
export function widening(
  sequence: Pick<SequenceUse, 'sequence' | 'kind' | 'column' | 'dataType' | 'max' | 'increment'>,
): string {
  if (sequence.kind === 'capped') {
    return 'Its cap is the first shared block: move the blocks up, with sharedIdSource and sharedIds migrations of a larger blockBase on both sides (a larger cap alone would hand out ids of blocks already given out).';
  }
  if (sequence.dataType !== 'bigint') {
    const column = sequence.column
      ? `; ALTER TABLE ${sequence.column.table} ALTER COLUMN ${quoteIdentifier(sequence.column.name)} TYPE bigint`
      : '';
    return `ALTER SEQUENCE ${sequence.sequence} AS bigint${column} (its limits follow the type when they were the old type's).`;
  }
  if (sequence.increment < 0n) return `ALTER SEQUENCE ${sequence.sequence} NO MINVALUE.`;
  if (sequence.max < BIGINT_MAX) return `ALTER SEQUENCE ${sequence.sequence} NO MAXVALUE.`;
  return `${sequence.sequence} is at the bigint limit: ids must be reassigned, or the column given a new sequence.`;
}
