import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildMigration, env, fdwLink, quoteIdentifier, quoteQualifiedName } from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import type { ServerPair } from '../harness/pair.js';
import { useServers } from '../harness/suite.js';

// Names and values an attacker or an unlucky legacy schema could bring. Each must reach the
// catalog exactly as written, and none may end a quote early.
const SERVER = `le"ga'cy $$ srv`;
const REMOTE_SCHEMA = `Remote "Sch'ema" $pgsl$`;
const REMOTE_TABLE = `we"ird ta'ble; DROP TABLE x; --`;
const COLUMN = `sel$$ect "col" \\ ✓`;
const LOCAL_SCHEMA = `Lokal ünïcødé $pgsl1$`;
// 21 three-byte characters: exactly PostgreSQL's 63-byte limit.
const LONGEST = '✓'.repeat(21);
const APPLICATION_NAME = `x'); DROP SCHEMA public CASCADE; -- \\ ? $pgsl$`;

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let legacyDb: string;

useServers('hostile', async (servers) => {
  ({ pair, legacy, app } = servers);
  legacyDb = servers.names.legacy;
  const table = quoteQualifiedName({ schema: REMOTE_SCHEMA, name: REMOTE_TABLE });
  await legacy.query(`CREATE SCHEMA ${quoteIdentifier(REMOTE_SCHEMA)}`);
  await legacy.query(`CREATE TABLE ${table} (${quoteIdentifier(COLUMN)} text, ${quoteIdentifier(LONGEST)} int)`);
  await legacy.query(`INSERT INTO ${table} VALUES ($1, 63)`, [`it's a "value" \\ $$`]);
  process.env.HOSTILE_PASSWORD = pair.legacy.password;
});

describe('hostile identifiers and values', () => {
  it('survive explicit foreign tables and import, up and down', async () => {
    await app.query(`CREATE SCHEMA ${quoteIdentifier(LOCAL_SCHEMA)}`);
    const before = await catalogSnapshot(app);
    const link = fdwLink({
      name: SERVER,
      host: pair.legacy.peerHost,
      port: pair.legacy.peerPort,
      dbname: legacyDb,
      options: { application_name: APPLICATION_NAME },
      userMappings: [{ user: pair.legacy.user, password: env('HOSTILE_PASSWORD') }],
    });
    const migration = buildMigration(
      'hostile',
      link,
      link.foreignTable({
        name: { schema: LOCAL_SCHEMA, name: LONGEST },
        remote: { schema: REMOTE_SCHEMA, name: REMOTE_TABLE },
        columns: [
          { name: 'value', type: 'text', remoteName: COLUMN },
          { name: LONGEST, type: 'int' },
        ],
      }),
      link.importForeignSchema({ remoteSchema: REMOTE_SCHEMA, into: `${LOCAL_SCHEMA} imported`, createSchema: true }),
    );
    await applyInTransaction(app, migration, 'up');

    const explicit = await app.query(
      `SELECT value, ${quoteIdentifier(LONGEST)} AS n FROM ${quoteQualifiedName({ schema: LOCAL_SCHEMA, name: LONGEST })}`,
    );
    expect(explicit.rows).toEqual([{ value: `it's a "value" \\ $$`, n: 63 }]);
    const imported = await app.query(
      `SELECT ${quoteIdentifier(COLUMN)} AS value FROM ${quoteQualifiedName({ schema: `${LOCAL_SCHEMA} imported`, name: REMOTE_TABLE })}`,
    );
    expect(imported.rows).toEqual([{ value: `it's a "value" \\ $$` }]);
    const server = await app.query(`SELECT srvname, srvoptions FROM pg_foreign_server`);
    expect(server.rows[0].srvname).toBe(SERVER);
    expect(server.rows[0].srvoptions).toContain(`application_name=${APPLICATION_NAME}`);
    // The remote session really carries the hostile application_name, unchanged.
    const session = await app.query(
      `SELECT 1 FROM ${quoteQualifiedName({ schema: LOCAL_SCHEMA, name: LONGEST })} LIMIT 1`,
    );
    expect(session.rowCount).toBe(1);
    const remoteSessions = await legacy.query(
      `SELECT application_name FROM pg_stat_activity WHERE application_name = $1`,
      [APPLICATION_NAME],
    );
    expect(remoteSessions.rowCount).toBeGreaterThan(0);

    await applyInTransaction(app, migration, 'down');
    expect(await catalogSnapshot(app)).toEqual(before);
    // Nothing on the remote was touched by any quoted value.
    const schemas = await legacy.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'public'`);
    expect(schemas.rows[0].n).toBe(1);
  });
});
