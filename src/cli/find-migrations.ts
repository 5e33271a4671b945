import { fieldOf } from '../spec/guards.js';
import { buildMigration, flattenParts, isMigration, type Migration, type Part } from 'pg-sync-link';

function isPartLike(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0 && value.every(isPartLike);
  return typeof fieldOf(value, 'kind') === 'string';
}

/**
 * The migrations a module defines, whatever form it exports them in: migrations or lists of
 * them, links and nodes, or runner modules made by knexMigration / kyselyMigration (which carry
 * their migration on `up`).
 */
export function migrationsIn(module: Record<string, unknown>): Migration[] {
  const found: Migration[] = [];
  const seen = new Set<unknown>();
  const add = (migration: Migration) => {
    if (!seen.has(migration)) {
      seen.add(migration);
      found.push(migration);
    }
  };
  for (const [name, value] of Object.entries(module)) {
    const carried = fieldOf(value, 'pgSyncLink');
    if (isMigration(carried)) add(carried);
    else if (isMigration(value)) add(value);
    else if (Array.isArray(value) && value.length > 0 && value.every(isMigration)) value.forEach(add);
    else if (isPartLike(value)) {
      try {
        // Shaped like links and nodes (isPartLike); building it checks the rest.
        if (flattenParts([value as Part]).length > 0) add(buildMigration(name, value as Part));
      } catch {
        // Something with a `kind` that is not ours: not a link.
      }
    }
  }
  return found;
}
