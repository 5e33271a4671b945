import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  env,
  fdwLink,
  foreignServer,
  MigrationFailedError,
  runMigration,
  userMapping,
  type Migration,
} from '../../src/index.js';
import { fdwExtensionNode } from '../../src/kinds/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { PRODUCT_COLUMNS, PRODUCT_ROWS, readProducts, seedProducts } from '../harness/legacy-fixture.js';
import type { ServerPair } from '../harness/pair.js';
import { useServers } from '../harness/suite.js';

// What postgres_fdw asks of a role that is not a superuser (a password), and what the libpq
// SSL options of a link do, on the servers of this run (PostgreSQL 15 and 18; neither has SSL).
let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let legacyDb: string;

useServers('fdwsec', async (servers) => {
  ({ pair, legacy, app } = servers);
  legacyDb = servers.names.legacy;
  await seedProducts(legacy);
  process.env.FDWSEC_PASSWORD = pair.legacy.password;
});

async function failure(work: Promise<unknown>): Promise<MigrationFailedError> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MigrationFailedError);
  return error as MigrationFailedError;
}

/** A local role that is not a superuser, allowed to use foreign servers (made per test: roles outlive databases). */
async function plainRole(): Promise<string> {
  const role = `clerk_${randomBytes(3).toString('hex')}`;
  await app.query(`CREATE ROLE ${role}`);
  return role;
}

/** Runs a migration as `role` (SET ROLE), in a transaction. */
async function applyAs(role: string, migration: Migration): Promise<void> {
  await app.query('BEGIN');
  try {
    await app.query(`SET LOCAL ROLE ${role}`);
    await runMigration(migration, 'up', (sql, values) => app.query(sql, [...values]));
    await app.query('COMMIT');
  } catch (error) {
    await app.query('ROLLBACK');
    throw error;
  }
}

const server = () => [
  fdwExtensionNode,
  foreignServer({ name: 'legacy', host: pair.legacy.peerHost, port: pair.legacy.peerPort, dbname: legacyDb }),
];

describe('password_required', () => {
  it('postgres_fdw refuses a role that is not a superuser when its mapping has no password (what the check prevents)', async () => {
    const role = await plainRole();
    await applyInTransaction(app, buildMigration('server', server()), 'up');
    // Made by hand, bypassing the library's check: this is what the user would meet later.
    await app.query(`CREATE USER MAPPING FOR ${role} SERVER legacy OPTIONS (user '${pair.legacy.user}')`);
    await app.query(`CREATE FOREIGN TABLE remote_products (id bigint) SERVER legacy OPTIONS (table_name 'products')`);
    await app.query(`GRANT SELECT ON remote_products TO ${role}`);
    await app.query('BEGIN');
    await app.query(`SET LOCAL ROLE ${role}`);
    const error = (await app
      .query('SELECT * FROM remote_products')
      .catch((caught: unknown) => caught)) as pg.DatabaseError;
    await app.query('ROLLBACK');
    // PostgreSQL 16 added GSSAPI delegation and 18 SCRAM pass-through as the other ways out.
    expect({ code: error.code, message: error.message, detail: error.detail }).toEqual(
      pair.app.major >= 18
        ? {
            code: '2F003',
            message: 'password or GSSAPI delegated credentials required',
            detail:
              'Non-superusers must delegate GSSAPI credentials, provide a password, or enable SCRAM pass-through in user mapping.',
          }
        : pair.app.major >= 16
          ? {
              code: '2F003',
              message: 'password or GSSAPI delegated credentials required',
              detail: 'Non-superusers must delegate GSSAPI credentials or provide a password in the user mapping.',
            }
          : {
              code: '2F003',
              message: 'password is required',
              detail: 'Non-superusers must provide a password in the user mapping.',
            },
    );
  });

  it('a mapping with no password for a role that is not a superuser is refused when created, with what to do', async () => {
    const role = await plainRole();
    await applyInTransaction(app, buildMigration('server', server()), 'up');
    const before = await catalogSnapshot(app);
    const error = await failure(
      applyInTransaction(
        app,
        buildMigration('mapping', userMapping({ server: 'legacy', for: { role }, user: pair.legacy.user })),
        'up',
      ),
    );
    expect(error.sqlState).toBe('2F003');
    expect(error.message).toContain(
      `pg-sync-link: the user mapping for ${role} on server legacy has no password, and ${role} is not a superuser: postgres_fdw would refuse every connection through it ("password is required")`,
    );
    expect(error.message).toMatch(
      /Hint: Give the mapping a password, env\('VARIABLE'\), of the remote role .* Only a superuser may set password_required: false instead/,
    );
    expect(await catalogSnapshot(app)).toEqual(before);

    // The same, for CURRENT_USER when the migration runs as that role.
    await app.query(`GRANT USAGE ON FOREIGN SERVER legacy TO ${role}`);
    const own = await failure(
      applyAs(role, buildMigration('own mapping', userMapping({ server: 'legacy', user: pair.legacy.user }))),
    );
    expect(own.message).toContain(
      `the user mapping for ${role} on server legacy has no password, and ${role} is not a superuser`,
    );

    // A superuser's own mapping needs no password, and a password satisfies the check.
    await applyInTransaction(
      app,
      buildMigration('superuser', userMapping({ server: 'legacy', user: pair.legacy.user })),
      'up',
    );
    await applyInTransaction(
      app,
      buildMigration(
        'with password',
        userMapping({ server: 'legacy', for: { role }, user: pair.legacy.user, password: env('FDWSEC_PASSWORD') }),
      ),
      'up',
    );
  });

  it('a link made by a role that is not a superuser, through a PUBLIC mapping with no password, fails its check saying why', async () => {
    const role = await plainRole();
    await app.query('CREATE EXTENSION postgres_fdw');
    await app.query(`GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO ${role}`);
    const before = await catalogSnapshot(app);
    // PUBLIC mappings are not checked when created (who uses them decides); the link check connects as the migrating role.
    const made = fdwLink({
      name: 'legacy',
      host: pair.legacy.peerHost,
      port: pair.legacy.peerPort,
      dbname: legacyDb,
      userMappings: [{ for: 'PUBLIC', user: pair.legacy.user }],
    });
    const error = await failure(applyAs(role, buildMigration('link', made)));
    expect(error.sqlState).toBe('2F003');
    expect(error.message).toContain(`foreign server legacy cannot reach its remote database as role ${role}: password`);
    expect(error.message).toMatch(
      /Hint: .*A role that is not a superuser must connect with a password that the remote server asks for/,
    );
    expect(await catalogSnapshot(app)).toEqual(before);
  });

  it("password_required: false is PostgreSQL's to refuse to anyone but a superuser, and works when a superuser sets it", async () => {
    const role = await plainRole();
    await applyInTransaction(app, buildMigration('server', server()), 'up');
    await app.query(`GRANT USAGE ON FOREIGN SERVER legacy TO ${role}`);
    const notRequired = buildMigration(
      'mapping',
      userMapping({
        server: 'legacy',
        for: { role },
        user: pair.legacy.user,
        password: env('FDWSEC_PASSWORD'),
        password_required: false,
      }),
    );
    const error = await failure(
      applyAs(
        role,
        buildMigration(
          'own mapping',
          userMapping({ server: 'legacy', user: pair.legacy.user, password_required: false }),
        ),
      ),
    );
    expect(error.sqlState).toBe('42501');
    expect(error.message).toContain('password_required=false is superuser-only');
    expect(error.message).toMatch(
      /Hint: User mappings with the password_required option set to false may only be created or modified by the superuser\./,
    );
    // A superuser may: the role then connects (the remote still checks the password it sends).
    await applyInTransaction(app, notRequired, 'up');
    await app.query(`CREATE FOREIGN TABLE remote_products (id bigint) SERVER legacy OPTIONS (table_name 'products')`);
    await app.query(`GRANT SELECT ON remote_products TO ${role}`);
    await app.query('BEGIN');
    await app.query(`SET LOCAL ROLE ${role}`);
    const { rows } = await app.query('SELECT count(*)::int AS n FROM remote_products');
    await app.query('ROLLBACK');
    expect(rows).toEqual([{ n: PRODUCT_ROWS.length }]);
  });
});

describe('sslmode and the other libpq SSL options', () => {
  const link = (options: Record<string, string>) =>
    fdwLink({
      name: 'legacy',
      host: pair.legacy.peerHost,
      port: pair.legacy.peerPort,
      dbname: legacyDb,
      options,
      userMappings: [{ user: pair.legacy.user, password: env('FDWSEC_PASSWORD') }],
    });

  it('sslmode require against a server without SSL fails the migration naming the link, and leaves nothing', async () => {
    const before = await catalogSnapshot(app);
    const error = await failure(
      applyInTransaction(app, buildMigration('ssl link', link({ sslmode: 'require' })), 'up'),
    );
    expect(error.sqlState).toBe('08001');
    expect(error.message).toMatch(
      /foreign server legacy cannot reach its remote database as role postgres: could not connect to server "legacy"/,
    );
    expect(error.message).toContain('server does not support SSL, but SSL was required');
    expect(error.message).toContain('sslmode=require');
    expect(await catalogSnapshot(app)).toEqual(before);
  });

  for (const sslmode of ['disable', 'prefer', 'allow']) {
    it(`sslmode ${sslmode} connects to a server without SSL`, async () => {
      const made = link({ sslmode });
      await applyInTransaction(
        app,
        buildMigration(
          'link',
          made,
          made.foreignTable({ name: 'p', remote: { name: 'products' }, columns: PRODUCT_COLUMNS }),
        ),
        'up',
      );
      expect(await readProducts(app, { name: 'p' })).toEqual(PRODUCT_ROWS);
    });
  }

  it('certificate options are passed to postgres_fdw as given (its validator accepts them as libpq options)', async () => {
    const options = {
      sslmode: 'prefer',
      sslrootcert: '/etc/ssl/legacy/root.crt',
      sslcrl: '/etc/ssl/legacy/root.crl',
      ssl_min_protocol_version: 'TLSv1.2',
      sslsni: '1',
    };
    const made = fdwLink({
      name: 'legacy',
      host: pair.legacy.peerHost,
      port: pair.legacy.peerPort,
      dbname: legacyDb,
      options,
      userMappings: [
        {
          user: pair.legacy.user,
          password: env('FDWSEC_PASSWORD'),
          sslcert: '/etc/ssl/legacy/client.crt',
          sslkey: '/etc/ssl/legacy/client.key',
        },
      ],
      // The files do not exist here; with prefer, a server without SSL is reached in plain text.
    });
    const before = await catalogSnapshot(app);
    const migration = buildMigration('cert link', made);
    await applyInTransaction(app, migration, 'up');
    const { rows } = await app.query(
      `SELECT s.srvoptions, m.umoptions FROM pg_foreign_server s JOIN pg_user_mappings m ON m.srvid = s.oid WHERE s.srvname = 'legacy'`,
    );
    expect(rows[0].srvoptions).toEqual(
      expect.arrayContaining(Object.entries(options).map(([name, value]) => `${name}=${value}`)),
    );
    expect(rows[0].umoptions).toEqual(
      expect.arrayContaining(['sslcert=/etc/ssl/legacy/client.crt', 'sslkey=/etc/ssl/legacy/client.key']),
    );
    await applyInTransaction(app, migration, 'down');
    expect(await catalogSnapshot(app)).toEqual(before);
  });
});
