import { fieldOf, isRecord } from '../spec/guards.js';
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadOptionalPeer } from 'pg-sync-link';
import { CannotRunError, firstLine } from './exit-codes.js';

const JAVASCRIPT = ['.js', '.mjs', '.cjs'];
const TYPESCRIPT = ['.ts', '.mts', '.cts'];

/** The files a module may be: what Knex, Kysely and Umzug load. */
export const MODULE_EXTENSIONS = [...JAVASCRIPT, ...TYPESCRIPT];

const isDeclaration = (file: string) => /\.d\.[mc]?ts$/.test(file);

/** Whether `file` names a folder. */
export function isFolder(file: string): boolean {
  return existsSync(file) && statSync(file).isDirectory();
}

/** The module files of a folder (not its subfolders, not .d.ts), in name order: the order Knex runs them in. */
export async function moduleFilesIn(folder: string): Promise<string[]> {
  const names = (await readdir(folder))
    .filter((name) => MODULE_EXTENSIONS.includes(path.extname(name)) && !isDeclaration(name))
    .sort();
  return names.map((name) => path.join(folder, name));
}

async function importTypeScript(resolved: string): Promise<unknown> {
  // jiti compiles TypeScript as it loads it, so .ts migrations and knexfiles load on every Node
  // version we support, with the extensionless relative imports TypeScript projects write. No
  // disk cache: a knexfile may hold a password, and its compiled text stays in this process.
  const { createJiti } = await loadOptionalPeer(
    'jiti',
    () => import('jiti'),
    'Reading a TypeScript file',
    'npm install jiti',
  );
  return createJiti(import.meta.url, { interopDefault: false, moduleCache: false, fsCache: false }).import(resolved);
}

/** Node loads JavaScript itself; one that imports TypeScript (a knexfile.js reading config.ts) goes through jiti. */
async function importJavaScript(resolved: string): Promise<unknown> {
  try {
    return await import(pathToFileURL(resolved).href);
  } catch (error) {
    if (fieldOf(error, 'code') !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    return importTypeScript(resolved);
  }
}

/**
 * Loads a JavaScript or TypeScript module the user wrote (a migration, a sync, a knexfile).
 * Every failure is a CannotRunError of one line: no such file, a folder, a kind of file we do
 * not read, or the module's own error while loading.
 */
export async function loadModule(file: string, what = 'module'): Promise<Record<string, unknown>> {
  const resolved = path.resolve(file);
  if (!existsSync(resolved)) throw new CannotRunError(`No such file: ${file}`);
  if (isFolder(resolved)) throw new CannotRunError(`${file} is a folder: give the ${what} file.`);
  const extension = path.extname(resolved);
  if (!MODULE_EXTENSIONS.includes(extension))
    throw new CannotRunError(`${file} is not a module: give a ${MODULE_EXTENSIONS.join(', ')} file.`);
  try {
    const loaded = TYPESCRIPT.includes(extension) ? await importTypeScript(resolved) : await importJavaScript(resolved);
    return isRecord(loaded) ? loaded : {};
  } catch (error) {
    if (error instanceof CannotRunError) throw error;
    throw new CannotRunError(`Could not load ${file}: ${firstLine(error)}`, { cause: error });
  }
}

/** A module's exports, with those of its default export (a CommonJS module, or `export default {...}`) merged in. */
export function exportsOf(module: Record<string, unknown>): Record<string, unknown> {
  const fallback = module.default;
  return {
    ...module,
    ...(isRecord(fallback) ? fallback : {}),
  };
}
