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
      return finding('sequence-headroom', 'warning', subject, `Cannot read the position of ${sequence.role}: this role has no SELECT or USAGE on it.`, `Run the doctor as the sequence's owner, or GRANT SELECT ON SEQUENCE ${sequence.sequence} TO the doctor's role.`);
    }
    const { remaining, used } = headroomOf(sequence);
    const percent = `${(used * 100).toFixed(1)} %`;
    const position = `at ${sequence.last ?? 'its start'} of ${sequence.min}..${sequence.max}, step ${sequence.increment}`;
    const raise = `ALTER SEQUENCE ${sequence.sequence} ${sequence.increment > 0n ? 'MAXVALUE' : 'MINVALUE'} <wider limit>`;
    const widen = `${raise}, after ALTER SEQUENCE ${sequence.sequence} AS bigint if it is smaller (and the column's type with it); for a sequence capped below shared blocks, move the blocks up instead (a new sharedIdSource with a larger blockBase)`;
    if (remaining === 0n) {
      return finding('sequence-headroom', 'error', subject, `${capitalised(sequence.role)} is exhausted (${position}): the next nextval fails, and so does every insert that needs an id.`, widen);
    }
    if (used >= warnAt) {
      return finding('sequence-headroom', 'warning', subject, `${capitalised(sequence.role)} has used ${percent} of its range (${position}); ${remaining} values are left.`, widen);
    }
    return finding('sequence-headroom', 'ok', subject, `${capitalised(sequence.role)} has used ${percent} of its range; ${remaining} values are left.`);
  });
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
