import { randomBytes } from 'node:crypto';
import { quoteIdentifier, quoteLiteral } from '../../src/sql/index.js';

/**
 * A role name no other test uses. Roles belong to the whole server, which other test files
 * share and which outlives each test's databases (an external server outlives the run), so a
 * fixed name left behind by a failed test would make the next CREATE ROLE fail.
 */
export function uniqueRole(prefix: string): string {
  return `${prefix}_${randomBytes(3).toString('hex')}`;
}

/** What a test connects with: a pg client, a pool, or anything else that runs one query. */
interface Queryable {
  query(text: string): Promise<unknown>;
}

/**
 * The password of every login role the tests make. Roles belong to the whole server, which
 * files running at once share: two files that made the same role with passwords of their own
 * would each reset it to theirs, and the other's connections would fail.
 */
export const ROLE_PASSWORD = 'pg-sync-link-test-role';

/** Two sessions creating or altering the same role at once: the loser fails, and may try again. */
const raced = (error: unknown) =>
  (error as { code?: string }).code === '23505' || /tuple concurrently updated/.test(String(error));

/**
 * Makes `role` a login role with ROLE_PASSWORD. A role made earlier (by another file, or a
 * failed run) is given it again instead of failing the CREATE. Files running at once may race
 * on the same role (roles are the server's, not a database's): the loser tries again.
 */
export async function loginRole(client: Queryable, role: string): Promise<void> {
  const name = quoteIdentifier(role);
  const secret = quoteLiteral(ROLE_PASSWORD);
  for (let attempt = 1; ; attempt += 1) {
    try {
      await client.query(
        `DO $$ BEGIN CREATE ROLE ${name} LOGIN PASSWORD ${secret}; EXCEPTION WHEN duplicate_object THEN ALTER ROLE ${name} LOGIN PASSWORD ${secret}; END $$`,
      );
      return;
    } catch (error) {
      if (attempt === 5 || !raced(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}
