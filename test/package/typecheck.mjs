// Type-checks the sample files in an app, as ES modules, CommonJS, bundler or node10 resolution,
// with skipLibCheck false so our .d.ts files are checked against the installed peers.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mustRun } from './lib.mjs';

const SAMPLES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'samples');

// nodenext checks each sample twice in one program: as an ES module (.mts) and as CommonJS (.cts).
const MODES = {
  nodenext: { exts: ['.mts', '.cts'], options: { module: 'nodenext', moduleResolution: 'nodenext' } },
  bundler: { exts: ['.ts'], options: { module: 'esnext', moduleResolution: 'bundler' } },
  node10: { exts: ['.ts'], options: { module: 'commonjs', moduleResolution: 'node10' } },
};

/** The installed version of a package in an app, or undefined. */
export function installedVersion(appDir, name) {
  try {
    return JSON.parse(readFileSync(path.join(appDir, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/**
 * Writes samples (names in samples/, without .ts) for one mode into their own folder and runs
 * the given TypeScript (a package folder in node_modules) over them.
 */
export async function typecheck(appDir, { typescript, mode, samples }) {
  const { exts, options } = MODES[mode];
  const dir = path.join(appDir, `typecheck-${typescript}-${mode}`);
  mkdirSync(dir, { recursive: true });
  const kysely = installedVersion(appDir, 'kysely');
  // Kysely 0.29 moved Migrator, Migration and MigrationProvider to kysely/migration.
  const migrationModule = kysely && !kysely.startsWith('0.28') ? 'kysely/migration' : 'kysely';
  for (const sample of samples) {
    const text = readFileSync(path.join(SAMPLES, `${sample}.ts`), 'utf8').replace(
      '__KYSELY_MIGRATION_MODULE__',
      migrationModule,
    );
    for (const ext of exts) writeFileSync(path.join(dir, `${sample}${ext}`), text);
  }
  const compilerOptions = {
    target: 'ES2022',
    strict: true,
    skipLibCheck: false,
    noEmit: true,
    esModuleInterop: true,
    types: ['node'],
    ...options,
  };
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, include: exts.map((ext) => `*${ext}`) }, null, 2),
  );
  const tsc = path.join(appDir, 'node_modules', typescript, 'bin', 'tsc');
  await mustRun(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], { cwd: appDir, timeoutMs: 600_000 });
  return `TypeScript ${installedVersion(appDir, typescript)}${kysely ? `, kysely ${kysely}` : ''}`;
}
