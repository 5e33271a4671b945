import { InvalidOptionError } from '../../errors.js';

// PostgreSQL's own rule for replication slot names (ReplicationSlotValidateName).
const SLOT_NAME = /^[a-z0-9_]{1,63}$/;

/** A replication slot name PostgreSQL accepts: lower-case letters, digits and _, at most 63. */
export function checkSlotName(value: unknown, path: string): string {
  if (typeof value !== 'string' || !SLOT_NAME.test(value)) {
    throw new InvalidOptionError(
      `${path} must be a replication slot name of lower-case letters, digits and underscores (at most 63), got ${JSON.stringify(value)}.`,
      path,
    );
  }
  return value;
}
