import { quoteIdentifier } from '../sql/index.js';
import { finding, type DoctorCheck, type Finding } from './findings.js';

// Every trigger the library creates is ENABLE ALWAYS: anything else lets some writes through
// unseen. One rule for syncs to another database, same-database syncs and change feeds.

/** A trigger's name and pg_trigger.tgenabled: O (origin and local), A (always), R (replica only), D (disabled). */
export interface TriggerState {
  readonly trigger: string;
  readonly enabled: string;
}

const ENABLED: Record<string, string> = {
  O: 'enabled (not in replica sessions)',
  A: 'enabled always',
  R: 'fires only in replica sessions',
  D: 'disabled',
};

/** What a trigger that is not ENABLE ALWAYS misses. */
const MISSES: Record<string, string> = {
  D: 'will not fire',
  R: 'fire only when session_replication_role = replica',
  O: 'skip writes made with session_replication_role = replica (pg_restore, some ETL tools)',
};

/**
 * One finding for the triggers of one object: ok when all fire always, a warning when some skip
 * replica (or ordinary) sessions, an error when one is disabled. `table` is quoted; `consequence`
 * says what is lost, e.g. `changes to public.t are not sent to server legacy`.
 */
export function triggerStateFinding(
  check: DoctorCheck,
  subject: string,
  table: string,
  consequence: string,
  triggers: readonly TriggerState[],
): Finding {
  const off = triggers.filter((trigger) => trigger.enabled !== 'A');
  const listed = triggers
    .map((trigger) => `${trigger.trigger} (${ENABLED[trigger.enabled] ?? trigger.enabled})`)
    .join(', ');
  if (off.length === 0) return finding(check, 'ok', subject, `Triggers ${listed}.`);
  const fix = off
    .map((trigger) => `ALTER TABLE ${table} ENABLE ALWAYS TRIGGER ${quoteIdentifier(trigger.trigger)}`)
    .join('; ');
  const worst = off.some((trigger) => trigger.enabled === 'D')
    ? 'D'
    : off.some((trigger) => trigger.enabled === 'R')
      ? 'R'
      : 'O';
  return finding(
    check,
    worst === 'D' ? 'error' : 'warning',
    subject,
    `${off.map((trigger) => trigger.trigger).join(', ')} ${MISSES[worst]}: ${consequence}. Triggers: ${listed}.`,
    `${fix} (then copy the rows changed meanwhile).`,
  );
}
