import { randomBytes } from 'node:crypto';

/**
 * A role name no other test uses. Roles belong to the whole server, which other test files
 * share and which outlives each test's databases (an external server outlives the run), so a
 * fixed name left behind by a failed test would make the next CREATE ROLE fail.
 */
export function uniqueRole(prefix: string): string {
  return `${prefix}_${randomBytes(3).toString('hex')}`;
}
