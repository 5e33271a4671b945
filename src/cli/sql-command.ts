import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { previewMigration, type Migration } from 'pg-sync-link';
import { CannotRunError, UsageError } from './exit-codes.js';
import { migrationsIn } from './find-migrations.js';
import { exportsOf, isFolder, loadModule, moduleFilesIn } from './load-module.js';

/** `pg-sync-link sql --help`. */
export const SQL_HELP = `Usage: pg-sync-link sql <module | folder> [--down]

Prints the SQL that the migrations defined in <module> run, for review. <module> is a
JavaScript or TypeScript file (.js, .mjs, .cjs, .ts, .mts, .cts) that exports links and nodes
(fdwLink, syncTrigger...), migrations (buildMigration, planMigrations...), or is a migration
file made with knexMigration, kyselyMigration or umzugMigrationFrom. Given a folder, it prints
every migration file in it, in name order (the order Knex runs them), newest first with --down;
files without a pg-sync-link migration are named and skipped. Passwords and other deferred
values show as their label, never their value.

Options:
  --down    print the statements of down instead of up
  --help    show this help`;

const NONE =
  'export links or nodes (fdwLink, syncTrigger...), migrations (buildMigration, planMigrations...), or make it with knexMigration, kyselyMigration or umzugMigrationFrom';

function render(migrations: readonly Migration[], direction: 'up' | 'down'): string[] {
  const ordered = direction === 'down' ? [...migrations].reverse() : migrations;
  return ordered.map((migration) => `-- ${migration.id} (${direction})\n${previewMigration(migration, direction)}`);
}

/** Runs `pg-sync-link sql`. */
export async function sqlCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { down: { type: 'boolean' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(SQL_HELP);
    return 0;
  }
  const [target, ...extra] = positionals;
  if (!target || extra.length > 0) throw new UsageError(`sql takes one module or folder, got ${positionals.length}.`);
  const direction = values.down ? 'down' : 'up';
  if (!isFolder(target)) {
    const migrations = migrationsIn(exportsOf(await loadModule(target)));
    if (migrations.length === 0) throw new CannotRunError(`No pg-sync-link migration found in ${target}: ${NONE}.`);
    console.log(render(migrations, direction).join('\n\n'));
    return 0;
  }
  const files = await moduleFilesIn(target);
  const sections: string[] = [];
  let found = 0;
  for (const file of direction === 'down' ? [...files].reverse() : files) {
    const shown = path.relative(process.cwd(), file) || file;
    const migrations = migrationsIn(exportsOf(await loadModule(file)));
    found += migrations.length;
    sections.push(
      migrations.length === 0
        ? `-- ${shown}: no pg-sync-link migration`
        : [`-- ${shown}`, ...render(migrations, direction)].join('\n\n'),
    );
  }
  if (found === 0) {
    const folders = (await readdir(target, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => entry.name);
    const inside = folders.length > 0 ? ` It has folders (${folders.sort().join(', ')}): give one of them.` : '';
    throw new CannotRunError(
      `No pg-sync-link migration found in the ${files.length} module files of ${target}: ${NONE}.${inside}`,
    );
  }
  console.log(sections.join('\n\n'));
  return 0;
}
