import {
  ident,
  qualified,
  quoteIdentifier,
  quoteQualifiedName,
  raiseException,
  sql,
  type Fragment,
  type QualifiedName,
} from '../sql/index.js';

// What every trigger the library puts on a user's table shares: it fires in every session, and
// the table cannot be emptied behind its back by TRUNCATE (which fires no row or statement
// trigger for INSERT, UPDATE or DELETE).

/**
 * Makes a trigger fire in every session, `session_replication_role = replica` included (as
 * pg_restore and some ETL tools set it): an ordinary trigger would skip those writes silently.
 */
export function fireAlways(table: QualifiedName, trigger: string): Fragment {
  return sql`ALTER TABLE ${qualified(table)} ENABLE ALWAYS TRIGGER ${ident(trigger)}`;
}

/** The trigger that refuses TRUNCATE, calling the kind's function with argument `truncate`. */
export function truncateTrigger(table: QualifiedName, fn: QualifiedName): Fragment {
  return sql`BEFORE TRUNCATE ON ${qualified(table)} FOR EACH STATEMENT EXECUTE FUNCTION ${qualified(fn)}('truncate')`;
}

/**
 * PL/pgSQL that refuses TRUNCATE (placed first in the trigger function): TRUNCATE removes the
 * rows without telling anyone, so the other side would keep every row. `what` names the sync or
 * feed; `trigger` is the refusing trigger, which the hint says how to set aside on purpose.
 */
export function refuseTruncate(what: string, table: QualifiedName, trigger: string): Fragment {
  const name = quoteQualifiedName(table);
  const refusing = quoteIdentifier(trigger);
  const hint =
    `DELETE FROM ${name} removes the rows and carries the deletion. To empty the table on purpose without carrying it, run in one transaction: ` +
    `ALTER TABLE ${name} DISABLE TRIGGER ${refusing}; TRUNCATE ${name}; ALTER TABLE ${name} ENABLE ALWAYS TRIGGER ${refusing}.`;
  return sql`
  IF TG_OP = 'TRUNCATE' THEN
    ${raiseException({
      errcode: 'feature_not_supported',
      message: `pg-sync-link: TRUNCATE of ${name} is refused: the ${what} does not carry it, so the other side would keep every row`,
      hint,
    })}
  END IF;`;
}
