import path from 'node:path';
import { migrationNodes, quoteIdentifier, quoteQualifiedName, type SyncNodeToCompare } from 'pg-sync-link';
import { migrationsIn } from './find-migrations.js';
import { exportsOf, loadModule, moduleFilesIn } from './load-module.js';

// The syncs that migration files install (the files `sql` reads: knexMigration, kyselyMigration,
// umzugMigrationFrom, buildMigration, planMigrations), as the table pairs verify and backfill compare.

interface SyncLike {
  readonly kind: string;
  readonly table: { readonly schema: string; readonly name: string };
  readonly server?: string;
  readonly target?: { readonly schema: string; readonly name: string };
}

function isSync(node: unknown): boolean {
  const kind = (node as { kind?: unknown } | null)?.kind;
  return kind === 'sync-trigger' || kind === 'local-sync';
}

/** `public.products to server legacy`, or `public.a to public.b` for a same-database sync. */
export function syncLabel(node: SyncLike): string {
  const to =
    node.server !== undefined
      ? `server ${quoteIdentifier(node.server)}`
      : node.target
        ? quoteQualifiedName(node.target)
        : '?';
  return `${quoteQualifiedName(node.table)} to ${to}`;
}

/** The syncs installed by the migrations a module exports, labelled, in the order they run. */
export function syncsInModule(module: Record<string, unknown>): Map<string, SyncNodeToCompare> {
  const found = new Map<string, SyncNodeToCompare>();
  for (const migration of migrationsIn(module)) {
    for (const node of migrationNodes(migration).filter(isSync))
      found.set(syncLabel(node as unknown as SyncLike), node as unknown as SyncNodeToCompare);
  }
  return found;
}

/** The syncs installed by every migration file of `folder`, in the order Knex runs them, with the file each is in. */
export async function syncsInFolder(folder: string): Promise<Map<string, SyncNodeToCompare>> {
  const found = new Map<string, SyncNodeToCompare>();
  for (const file of await moduleFilesIn(folder)) {
    for (const [label, node] of syncsInModule(exportsOf(await loadModule(file)))) {
      if (!found.has(label)) found.set(label, node);
    }
  }
  return found;
}

/** A file's name as the user gave it, for messages. */
export const shown = (file: string) => path.relative(process.cwd(), file) || file;
