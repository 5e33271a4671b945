#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isSyncLinkError, previewMigration, SyncLinkError } from 'pg-sync-link';
import { doctorCommand } from './doctor.js';
import { migrationsIn } from './find-migrations.js';
import { TEMPLATES, type Runner } from './templates.js';

const HELP = {
  main: `Usage: pg-sync-link <command> [options]

Commands:
  sql <module> [--down]            print the SQL a link or migration module runs, secrets redacted
  generate <knex|kysely|umzug> <name> [--dir <folder>]
                                   write a migration file to start from
  doctor [--url-env <NAME> | --knexfile <file> [--env <name>]] [--json]
                                   check the health of a database with pg-sync-link objects

Run pg-sync-link <command> --help for a command's options.`,
  sql: `Usage: pg-sync-link sql <module> [--down]

Prints the SQL that the migrations defined in <module> run, for review. <module> is a
JavaScript file that exports links and nodes (fdwLink, syncTrigger...), migrations
(buildMigration, planMigrations...), or is a migration file made with knexMigration or
kyselyMigration. Passwords and other deferred values show as their label, never their value.

Options:
  --down    print the statements of down instead of up
  --help    show this help`,
  generate: `Usage: pg-sync-link generate <knex|kysely|umzug> <name> [--dir <folder>]

Writes <folder>/<timestamp>_<name>.mjs, a migration for that runner with a link and a foreign
table to edit. <name> is lower-case letters, digits, _ and -.

Options:
  --dir     the folder to write into (default: migrations)
  --help    show this help`,
};

class UsageError extends Error {}

async function sqlCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { down: { type: 'boolean' }, help: { type: 'boolean' } } });
  if (values.help) return console.log(HELP.sql);
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError(`sql takes one module.\n\n${HELP.sql}`);
  const resolved = path.resolve(file);
  if (!existsSync(resolved)) throw new UsageError(`No such file: ${file}`);
  const module = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  const migrations = migrationsIn({ ...module, ...((module.default as Record<string, unknown> | undefined) ?? {}) });
  if (migrations.length === 0) {
    throw new SyncLinkError(
      'INVALID_OPTION',
      `No pg-sync-link migration found in ${file}: export links or nodes (fdwLink, syncTrigger...), migrations (buildMigration, planMigrations...), or make it with knexMigration / kyselyMigration.`,
    );
  }
  const direction = values.down ? 'down' : 'up';
  console.log(migrations.map((migration) => `-- ${migration.id} (${direction})\n${previewMigration(migration, direction)}`).join('\n\n'));
}

function timestamp(now = new Date()): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

async function generateCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { dir: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) return console.log(HELP.generate);
  const [runner, name, ...extra] = positionals;
  if (!runner || !name || extra.length > 0) throw new UsageError(`generate takes a runner and a name.\n\n${HELP.generate}`);
  if (!(runner in TEMPLATES)) throw new UsageError(`Unknown runner "${runner}": use knex, kysely or umzug.`);
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new UsageError(`The name "${name}" must be lower-case letters, digits, _ and -, e.g. link_legacy.`);
  const folder = path.resolve(values.dir ?? 'migrations');
  const file = path.join(folder, `${timestamp()}_${name}.mjs`);
  if (existsSync(file)) throw new UsageError(`${file} exists already.`);
  await mkdir(folder, { recursive: true });
  await writeFile(file, TEMPLATES[runner as Runner].replace("'NAME'", JSON.stringify(name)), { flag: 'wx' });
  console.log(`Wrote ${path.relative(process.cwd(), file)}`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      console.log(HELP.main);
      return command === undefined ? 2 : 0;
    }
    if (command === 'sql') await sqlCommand(rest);
    else if (command === 'generate') await generateCommand(rest);
    else if (command === 'doctor') return await doctorCommand(rest);
    else throw new UsageError(`Unknown command "${command}".\n\n${HELP.main}`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      console.error(error.message);
      return 2;
    }
    if (isSyncLinkError(error)) {
      console.error(`pg-sync-link: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
