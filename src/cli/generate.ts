import { isOneOf, messageOf } from '../spec/guards.js';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CannotRunError, UsageError } from './exit-codes.js';
import { migrationTemplate, RUNNERS, type ModuleSyntax, type Runner } from './templates.js';

/** `pg-sync-link generate --help`. */
export const GENERATE_HELP = `Usage: pg-sync-link generate <knex|kysely|umzug> <name> [--dir <folder>] [--ext <ext>]

Writes <folder>/<timestamp>_<name>.<ext>, a migration for that runner with a link and a foreign
table to edit. <name> is lower-case letters, digits, _ and -.

The extension follows the project (the nearest package.json from the current folder):
TypeScript (a tsconfig.json, or typescript in its dependencies) gives .ts; "type": "module"
gives .js; otherwise .cjs for Knex and Umzug, .mjs for Kysely (which loads only .js, .ts,
.mjs and .mts). Knex loads .js, .cjs and .ts by default, never .mjs unless the knexfile's
migrations.loadExtensions has it.

Options:
  --dir     the folder to write into (default: migrations)
  --ext     js, cjs, mjs, ts, mts or cts instead of the project's
  --help    show this help`;

const EXTENSIONS = ['js', 'cjs', 'mjs', 'ts', 'mts', 'cts'] as const;
type Extension = (typeof EXTENSIONS)[number];

/** The files each runner loads without configuration. */
const LOADED_BY_DEFAULT: Record<Runner, readonly Extension[]> = {
  knex: ['js', 'cjs', 'ts'],
  kysely: ['js', 'ts', 'mjs', 'mts'],
  umzug: EXTENSIONS,
};

/** What the project in `folder` (or the nearest one above it) is written in. */
export function projectKind(folder: string): { typescript: boolean; esm: boolean } {
  for (let dir = path.resolve(folder); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      let pkg: { type?: unknown; dependencies?: Record<string, unknown>; devDependencies?: Record<string, unknown> } =
        {};
      try {
        pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      } catch {
        // An unreadable package.json says nothing about the project.
      }
      const typescript =
        existsSync(path.join(dir, 'tsconfig.json')) ||
        'typescript' in (pkg.dependencies ?? {}) ||
        'typescript' in (pkg.devDependencies ?? {});
      return { typescript, esm: pkg.type === 'module' };
    }
    if (path.dirname(dir) === dir) return { typescript: false, esm: false };
  }
}

/** The extension a new migration gets in this project, unless --ext says otherwise. */
export function defaultExtension(runner: Runner, project: { typescript: boolean; esm: boolean }): Extension {
  if (project.typescript) return 'ts';
  if (project.esm) return 'js';
  return runner === 'kysely' ? 'mjs' : 'cjs';
}

/** CommonJS for .cjs, and for .js outside an ES module project; ES module syntax otherwise (TypeScript compiles it either way). */
function syntaxOf(extension: Extension, esm: boolean): ModuleSyntax {
  return extension === 'cjs' || (extension === 'js' && !esm) ? 'cjs' : 'esm';
}

function timestamp(now = new Date()): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Runs `pg-sync-link generate`. */
export async function generateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { dir: { type: 'string' }, ext: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(GENERATE_HELP);
    return 0;
  }
  const [runner, name, ...extra] = positionals;
  if (!runner || !name || extra.length > 0)
    throw new UsageError('generate takes a runner and a name, e.g. generate knex link_legacy.');
  if (!isOneOf(RUNNERS, runner)) throw new UsageError(`Unknown runner "${runner}": use knex, kysely or umzug.`);
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name))
    throw new UsageError(`The name "${name}" must be lower-case letters, digits, _ and -, e.g. link_legacy.`);
  const chosen = values.ext?.replace(/^\./, '');
  if (chosen !== undefined && !isOneOf(EXTENSIONS, chosen))
    throw new UsageError(`--ext takes one of ${EXTENSIONS.join(', ')}; got "${values.ext}".`);
  const project = projectKind(process.cwd());
  const extension = chosen ?? defaultExtension(runner, project);
  const folder = path.resolve(values.dir ?? 'migrations');
  const file = path.join(folder, `${timestamp()}_${name}.${extension}`);
  if (existsSync(file)) throw new CannotRunError(`${file} exists already.`);
  try {
    await mkdir(folder, { recursive: true });
    await writeFile(file, migrationTemplate(runner, name, syntaxOf(extension, project.esm)), { flag: 'wx' });
  } catch (error) {
    throw new CannotRunError(`Could not write ${file}: ${messageOf(error)}`, { cause: error });
  }
  console.log(`Wrote ${path.relative(process.cwd(), file)}`);
  if (!LOADED_BY_DEFAULT[runner].includes(extension)) {
    console.error(
      `Note: ${runner} does not load .${extension} files by default${runner === 'knex' ? `: add '.${extension}' to migrations.loadExtensions in the knexfile` : ''}.`,
    );
  }
  return 0;
}
