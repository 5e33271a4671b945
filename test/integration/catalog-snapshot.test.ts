import type pg from 'pg';
import { expect, it } from 'vitest';
import { catalogSnapshot } from '../harness/catalog.js';
import { useServers } from '../harness/suite.js';

// The round-trip tests are only as good as the snapshot: each leftover below must show.
let app: pg.Client;

useServers('snapshot', async (servers) => {
  app = servers.app;
  await app.query('CREATE TABLE t (id int DEFAULT 1, v text)');
  await app.query('CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$');
});

const LEFTOVERS: Record<string, string> = {
  namespaces: 'CREATE SCHEMA leftover',
  classes: 'CREATE TABLE leftover (id int)',
  attributes: 'ALTER TABLE t ADD COLUMN extra int',
  defaults: 'ALTER TABLE t ALTER COLUMN id SET DEFAULT 2',
  procs: 'CREATE OR REPLACE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$',
  triggers: 'CREATE TRIGGER leftover AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()',
  extensions: 'CREATE EXTENSION postgres_fdw',
  descriptions: `COMMENT ON TABLE t IS 'changed'`,
  sequences: 'CREATE SEQUENCE leftover_seq',
};

for (const [part, statement] of Object.entries(LEFTOVERS)) {
  it(`notices a change in ${part}`, async () => {
    const before = await catalogSnapshot(app);
    await app.query(statement);
    const after = await catalogSnapshot(app);
    expect(after[part]).not.toEqual(before[part]);
  });
}

it('notices foreign servers, user mappings and foreign tables', async () => {
  await app.query('CREATE EXTENSION postgres_fdw');
  const before = await catalogSnapshot(app);
  await app.query(`CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'h')`);
  const withServer = await catalogSnapshot(app);
  expect(withServer.foreignServers).not.toEqual(before.foreignServers);
  await app.query(`CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (user 'u')`);
  const withMapping = await catalogSnapshot(app);
  expect(withMapping.userMappings).not.toEqual(withServer.userMappings);
  await app.query('CREATE FOREIGN TABLE ft (id int) SERVER s');
  expect((await catalogSnapshot(app)).foreignTables).not.toEqual(withMapping.foreignTables);
});
