import { fieldOf } from '../spec/guards.js';
import {
  flattenParts,
  type Part,
  type SyncNodeToCompare,
  type SyncTriggerOptions,
  type TablePairOptions,
} from 'pg-sync-link';
import { CannotRunError, UsageError } from './exit-codes.js';
import { exportsOf, isFolder, loadModule } from './load-module.js';
import { syncsInFolder, syncsInModule } from './migration-syncs.js';

type Tables = TablePairOptions | SyncNodeToCompare;

/** The options verify and backfill share: which tables, and where. */
export const COMPARE_OPTIONS = {
  'local-env': { type: 'string' },
  'remote-env': { type: 'string' },
  export: { type: 'string' },
  table: { type: 'string' },
  schema: { type: 'string' },
  'remote-table': { type: 'string' },
  'remote-schema': { type: 'string' },
  key: { type: 'string' },
  columns: { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** The part of verify's and backfill's help about connections and tables. */
export const COMPARE_HELP = `Connections (names of environment variables that hold the URLs, so no password is typed):
  --local-env <VAR>        the side whose table the sync reads, e.g. APP_DATABASE_URL
  --remote-env <VAR>       the side that receives, e.g. LEGACY_DATABASE_URL

Tables, either from a module:
  <module>                 a JavaScript or TypeScript file that exports a syncTrigger(...) node (or a list
                           holding one) or a { table, remote?, key, columns } object
  --export <name>          which export, when the module has more than one
or from migrations (the files sql reads), each sync they install, one after the other:
  <file | folder>          a migration file (knexMigration, kyselyMigration, umzugMigrationFrom...)
                           or a folder of them, e.g. migrations/app
  --export <sync>          only that one, e.g. "public.products to server legacy"
or from options (plain columns only):
  --table <name>           the local table (with --schema, default public)
  --remote-table <name>    the remote table (with --remote-schema); default the same name
  --key <a,b>              key columns, comma-separated
  --columns <a,b,c>        the columns to compare, comma-separated`;

interface CompareValues {
  'local-env'?: string;
  'remote-env'?: string;
  export?: string;
  table?: string;
  schema?: string;
  'remote-table'?: string;
  'remote-schema'?: string;
  key?: string;
  columns?: string;
}

/** The URL in the environment variable `name`; a URL given instead of a name is refused. */
function urlFrom(name: string | undefined, option: string): string {
  if (!name)
    throw new UsageError(
      `--${option}-env is required: the name of an environment variable that holds the ${option} database's URL.`,
    );
  if (name.includes('://') || name.includes('=')) {
    throw new UsageError(
      `--${option}-env takes the name of an environment variable, not a URL: a password on the command line ends up in the shell history and the process list.`,
    );
  }
  const url = process.env[name];
  if (!url) throw new CannotRunError(`The environment variable ${name} (--${option}-env) is not set.`);
  return url;
}

function isSyncTrigger(value: unknown): boolean {
  const kind = fieldOf(value, 'kind');
  return kind === 'sync-trigger' || kind === 'local-sync';
}

function isPlainPair(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    'table' in value &&
    'key' in value &&
    'columns' in value &&
    !('kind' in value)
  );
}

/** The table descriptions a module exports, by export name. */
function tablesIn(module: Record<string, unknown>): Map<string, Tables> {
  const found = new Map<string, Tables>();
  for (const [name, value] of Object.entries(module)) {
    if (isSyncTrigger(value) || isPlainPair(value)) {
      // isSyncTrigger / isPlainPair looked at its kind and shape; tablePair() checks it whole.
      found.set(name, value as Tables);
      continue;
    }
    let nodes: readonly unknown[] = [];
    try {
      // Any export may be a link or a node: flattenParts refuses what is not one (caught below).
      nodes = flattenParts([value as Part]);
    } catch {
      // Not a link or a node.
    }
    const syncs = nodes.filter(isSyncTrigger);
    // A sync node of a link (isSyncTrigger), which tablePair() takes as it is.
    for (const [index, node] of syncs.entries())
      found.set(syncs.length === 1 ? name : `${name}[${index}]`, node as Tables);
  }
  return found;
}

const list = (value: string) =>
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');

/** A pair of tables to compare, and its name (the export, or the sync a migration installs). */
export interface NamedTables {
  readonly name: string;
  readonly tables: Tables;
}

async function tablesFrom(values: CompareValues, positionals: readonly string[]): Promise<NamedTables[]> {
  const [file, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`Give one module or folder, got ${positionals.length}.`);
  if (file !== undefined) {
    if (values.table || values.key || values.columns)
      throw new UsageError('Give either a module or --table/--key/--columns, not both.');
    const module = isFolder(file) ? undefined : exportsOf(await loadModule(file));
    const exported = module ? tablesIn(module) : new Map<string, Tables>();
    // Migrations hold several syncs: each is compared. A module's own exports name one.
    const fromExports = exported.size > 0;
    const found: Map<string, Tables> = fromExports
      ? exported
      : module
        ? syncsInModule(module)
        : await syncsInFolder(file);
    if (values.export !== undefined) {
      const chosen = found.get(values.export);
      if (!chosen)
        throw new CannotRunError(
          `${file} has no sync or table description named "${values.export}"; it has: ${[...found.keys()].join(', ') || 'none'}.`,
        );
      return [{ name: values.export, tables: chosen }];
    }
    if (found.size === 0)
      throw new CannotRunError(
        `${file} exports no syncTrigger(...) node and no { table, key, columns } object, and installs no sync through its migrations.`,
      );
    if (fromExports && found.size > 1)
      throw new UsageError(
        `${file} exports several: ${[...found.keys()].join(', ')}. Choose one with --export <name>.`,
      );
    return [...found.entries()].map(([name, tables]) => ({ name, tables }));
  }
  if (!values.table || !values.key || !values.columns)
    throw new UsageError('Give a module, or --table, --key and --columns.');
  const remote =
    values['remote-table'] || values['remote-schema']
      ? { schema: values['remote-schema'], name: values['remote-table'] }
      : undefined;
  const tables: TablePairOptions = {
    table: values.schema ? { schema: values.schema, name: values.table } : values.table,
    key: list(values.key),
    // Column names from the command line; tablePair() checks them.
    columns: list(values.columns) as SyncTriggerOptions['columns'],
    ...(remote
      ? { remote: Object.fromEntries(Object.entries(remote).filter(([, entry]) => entry !== undefined)) }
      : {}),
  };
  return [
    { name: typeof tables.table === 'string' ? tables.table : `${tables.table.schema}.${tables.table.name}`, tables },
  ];
}

/** Connections and tables from the shared options; usage errors before anything connects. */
export async function compareTargets(
  values: CompareValues,
  positionals: readonly string[],
): Promise<{ local: string; remote: string; pairs: NamedTables[] }> {
  const pairs = await tablesFrom(values, positionals);
  return { local: urlFrom(values['local-env'], 'local'), remote: urlFrom(values['remote-env'], 'remote'), pairs };
}

/** A whole number option, or undefined when it is not given. */
export function wholeNumber(value: string | undefined, option: string, least: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < least)
    throw new UsageError(`--${option} takes a whole number, ${least} or more; got "${value}".`);
  return number;
}
