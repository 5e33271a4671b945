// Really runs one migration through each runner in the apps, against servers from pg-sync-link/testing.
import { spawn } from 'node:child_process';
import { baseEnv, mustRun, tail } from './lib.mjs';

/** Starts servers.mjs in the app; resolves with the servers and a stop function. */
export function startServers(appDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['servers.mjs'], {
      cwd: appDir,
      env: baseEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    const stop = () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.stdin.end();
      });
    const onData = (chunk) => {
      output += chunk;
      const line = output.split('\n').find((text) => text.startsWith('SERVERS '));
      if (line) resolve({ servers: JSON.parse(line.slice('SERVERS '.length)), stop });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) =>
      reject(new Error(`servers.mjs exited ${code} before the servers were up\n${tail(output)}`)),
    );
  });
}

/** The variables the sample migrations read: the app database, and how it reaches legacy. */
export function migrationEnv({ legacy, app }) {
  return {
    DATABASE_URL: app.url,
    LEGACY_HOST: legacy.peerHost,
    LEGACY_PORT: String(legacy.peerPort),
    LEGACY_DB: legacy.database,
    LEGACY_USER: legacy.user,
    LEGACY_PASSWORD: legacy.password,
  };
}

/** The foreign servers in the app database (read through the esm app's pg). */
export async function foreignServers(esmDir, env) {
  const { stdout } = await mustRun(process.execPath, ['foreign-servers.mjs'], { cwd: esmDir, env });
  return JSON.parse(stdout.split('FOREIGN_SERVERS ')[1]);
}

export function expectEqual(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** `npx knex migrate:latest`, `migrate:list`, `migrate:rollback --all` with the given knexfile. */
export async function knexRoundTrip(appDir, esmDir, env, knexfile, file) {
  const knex = (...args) => mustRun('npx', ['knex', ...args, '--knexfile', knexfile], { cwd: appDir, env });
  const latest = await knex('migrate:latest');
  if (!latest.stdout.includes('Batch 1 run: 1 migrations'))
    throw new Error(`migrate:latest said:\n${latest.stdout}${latest.stderr}`);
  expectEqual(await foreignServers(esmDir, env), ['legacy'], 'foreign servers after migrate:latest');
  const list = await knex('migrate:list');
  if (!list.stdout.includes(file)) throw new Error(`migrate:list does not name ${file}:\n${list.stdout}`);
  await knex('migrate:rollback', '--all');
  expectEqual(await foreignServers(esmDir, env), [], 'foreign servers after migrate:rollback --all');
}

/**
 * In an app without prom-client: the outbox worker and the change listener run without
 * `metrics`, and with it stop with our OptionalPeerError saying to install prom-client.
 */
export async function withoutPromClient(appDir, env) {
  const { stdout } = await mustRun(process.execPath, ['outbox-without-prom-client.mjs'], { cwd: appDir, env });
  const result = JSON.parse(stdout.split('NO_PROM_CLIENT ')[1]);
  expectEqual(result.promClient, 'ERR_MODULE_NOT_FOUND', "the app's import('prom-client')");
  expectEqual(result.delivered, [{ status: 'new' }], 'the row on legacy after the worker drained');
  expectEqual(result.events, ['connected', 'delivered', 'stopped'], "the worker's events");
  expectEqual(result.changes, ['insert'], 'the changes the listener heard');
  for (const [who, error] of Object.entries({
    worker: result.workerWithMetrics,
    listener: result.listenerWithMetrics,
  })) {
    const { name, code, peer } = error;
    expectEqual(
      { name, code, peer },
      { name: 'OptionalPeerError', code: 'OPTIONAL_PEER', peer: 'prom-client' },
      `the ${who}'s error with metrics`,
    );
    if (!error.message.includes('not installed: npm install prom-client'))
      throw new Error(`the ${who}'s error does not say to install prom-client: ${error.message}`);
  }
  return 'worker delivered, listener heard, metrics refused by name';
}
