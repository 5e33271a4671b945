import { isOneOf } from '../../spec/guards.js';
import { InvalidOptionError } from '../../errors.js';
import { checkArray } from '../../spec/object.js';

/** A kind of change a sync sends. */
export type SyncOperation = 'insert' | 'update' | 'delete';

const OPERATIONS: readonly SyncOperation[] = ['insert', 'update', 'delete'];

export function checkOperations(value: unknown, path: string): readonly SyncOperation[] {
  if (value === undefined) return OPERATIONS;
  const operations = checkArray(value, `${path}.operations`);
  if (operations.length === 0)
    throw new InvalidOptionError(
      `${path}.operations is empty; leave it out to sync all changes.`,
      `${path}.operations`,
    );
  for (const operation of operations) {
    if (!isOneOf(OPERATIONS, operation)) {
      throw new InvalidOptionError(
        `${path}.operations: "${String(operation)}" is not one of insert, update, delete.`,
        `${path}.operations`,
      );
    }
  }
  return OPERATIONS.filter((operation) => operations.includes(operation));
}
