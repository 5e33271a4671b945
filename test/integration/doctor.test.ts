import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildMigration, diagnose, sharedIdSource } from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { linkTo } from '../harness/links.js';
import { endpointViews } from '../../src/kinds/sync/sync-names.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { findingsOf, installHealthy, notOk, sequencePositions } from '../harness/doctor-setup.js';
import type { ServerPair } from '../harness/pair.js';
import { uniqueRole } from '../harness/roles.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let appUrl: string;
let legacyUrl: string;
let legacyDbName: string;

useServers('doctor', async (servers) => {
  ({ pair, legacy, app } = servers);
  appUrl = connectionString(pair.app, servers.names.app);
  legacyUrl = connectionString(pair.legacy, servers.names.legacy);
  legacyDbName = servers.names.legacy;
  await installHealthy(legacy, app, pair.legacy, servers.names.legacy);
});

/** Where app reaches legacy (127.0.0.1 locally, the container's name on a Docker network), as a pattern. */
const peerHost = () => pair.legacy.peerHost.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('doctor on a healthy installation', () => {
  it('finds everything ok, states the version, and changes nothing on either side', async () => {
    const before = {
      app: await catalogSnapshot(app),
      legacy: await catalogSnapshot(legacy),
      appSeq: await sequencePositions(app),
      legacySeq: await sequencePositions(legacy),
    };
    const diagnosis = await diagnose(appUrl);
    expect(notOk(diagnosis)).toEqual([]);
    expect(diagnosis.exitCode).toBe(0);
    const versionNum = Number((await app.query('SHOW server_version_num')).rows[0].server_version_num);
    const major = Math.floor(versionNum / 10000);
    expect(diagnosis.serverVersionNum).toBe(versionNum);
    expect(findingsOf(diagnosis, 'version')[0]!.message).toMatch(
      new RegExp(
        `^PostgreSQL ${major}\\.\\d+.*postgres_fdw batch_size \\(the foreign tables of syncTrigger\\) \\(14\\+\\)`,
      ),
    );
    expect(findingsOf(diagnosis, 'server-reachable').map((item) => item.message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Reached database \\S+ at ${peerHost()}:${pair.legacy.peerPort} \\(PostgreSQL ${major}\\.\\d+.*\\) through the user mapping for postgres, as postgres\\.$`,
        ),
      ),
    ]);
    expect(findingsOf(diagnosis, 'user-mapping').map((item) => item.subject)).toEqual(['server legacy, role postgres']);
    expect(findingsOf(diagnosis, 'sync-endpoint').map((item) => item.subject)).toEqual([
      'foreign table public.notes__sync_to_legacy_delete',
      'foreign table public.notes__sync_to_legacy_upsert',
      'foreign table public.products__sync_to_legacy_delete',
      'foreign table public.products__sync_to_legacy_upsert',
    ]);
    expect(findingsOf(diagnosis, 'remote-privilege').map((item) => item.message)).toEqual([
      'The remote roles may use what the 6 foreign tables of server legacy need (INSERT into sync endpoints, SELECT otherwise).',
    ]);
    expect(findingsOf(diagnosis, 'foreign-table-drift').map((item) => item.subject)).toEqual([
      'foreign table public.legacy_catalogue',
      'foreign table public.orders__id_source',
    ]);
    expect(findingsOf(diagnosis, 'sync-trigger').map((item) => item.message)).toEqual([
      'Triggers sync_to_legacy_commit (enabled always), sync_to_legacy_delete (enabled always), sync_to_legacy_insert (enabled always), sync_to_legacy_truncate (enabled always), sync_to_legacy_update (enabled always).',
      'Triggers sync_to_legacy_delete (enabled always), sync_to_legacy_insert (enabled always), sync_to_legacy_truncate (enabled always), sync_to_legacy_update (enabled always), sync_to_legacy_update_key (enabled always).',
    ]);
    expect(findingsOf(diagnosis, 'sequence-headroom').map((item) => item.subject)).toEqual([
      'sequence orders__id_cache',
      'sequence tickets_id_seq',
    ]);
    expect(findingsOf(diagnosis, 'sequence-headroom')[1]!.message).toMatch(
      /^The id sequence of tickets\.id, interleaved \(steps by 2\) has used 0\.0 % of its range; 1073741824 values are left\.$/,
    );

    expect(await catalogSnapshot(app)).toEqual(before.app);
    expect(await catalogSnapshot(legacy)).toEqual(before.legacy);
    expect(await sequencePositions(app)).toEqual(before.appSeq);
    expect(await sequencePositions(legacy)).toEqual(before.legacySeq);
  });

  it('checks the owning side of shared ids: its capped sequence and its blocks', async () => {
    const diagnosis = await diagnose(legacyUrl);
    expect(diagnosis.exitCode).toBe(0);
    expect(findingsOf(diagnosis, 'sequence-headroom').map((item) => [item.subject, item.severity])).toEqual([
      ['sequence orders__id_blocks', 'ok'],
      ['sequence orders_id_seq', 'ok'],
    ]);
    expect(findingsOf(diagnosis, 'postgres-fdw')[0]!.message).toMatch(
      /^Available \(version [\d.]+\), not installed in this database/,
    );
    expect(findingsOf(diagnosis, 'sync-endpoint')).toEqual([
      {
        check: 'sync-endpoint',
        severity: 'ok',
        subject: 'this database',
        message: '4 sync endpoint views for other databases to write into, each with its rule.',
      },
    ]);

    // Without its rule, an endpoint view refuses every batch.
    const views = endpointViews(
      { schema: 'public', name: 'products' },
      ['id'],
      ['id', 'name', 'description', 'price', 'created_at', 'updated_at'],
    );
    await legacy.query(`DROP RULE sync_upsert ON ${views.upsert.name}`);
    const broken = await diagnose(legacyUrl);
    expect(notOk(broken)).toEqual([
      {
        check: 'sync-endpoint',
        severity: 'error',
        subject: `view public.${views.upsert.name}`,
        message: `The endpoint view public.${views.upsert.name} has no enabled sync_upsert rule: every batch the other side sends fails with "cannot insert into view".`,
        fix: `Roll back and reinstall the syncEndpoint migration that made it (or ALTER TABLE public.${views.upsert.name} ENABLE RULE sync_upsert, if it was disabled).`,
      },
    ]);
    expect(broken.exitCode).toBe(1);
  });

  it('runs on a pg Client it is given, and leaves it outside any transaction', async () => {
    const diagnosis = await diagnose(app);
    expect(diagnosis.exitCode).toBe(0);
    const { rows } = await app.query(`SELECT now() = statement_timestamp() AS fresh`);
    expect(rows[0].fresh).toBe(true);
    // A connection in the middle of a transaction is refused, and its transaction kept.
    await app.query('BEGIN');
    await app.query(`INSERT INTO tickets (note) VALUES ('kept')`);
    await expect(diagnose(app)).rejects.toThrow(/^diagnose needs a connection that is not in a transaction/);
    await app.query('COMMIT');
    expect((await app.query('SELECT note FROM tickets')).rows).toEqual([{ note: 'kept' }]);
  });

  it('a role it cannot test with is a warning that says how to run it, not an unreachable server', async () => {
    const role = uniqueRole('doctor_plain');
    // No USAGE on the server: the doctor cannot make its probe as this role.
    await app.query(`CREATE ROLE ${role}`);
    await app.query(`CREATE USER MAPPING FOR ${role} SERVER legacy`);
    await app.query(`ALTER FUNCTION products__sync_to_legacy() OWNER TO ${role}`);
    try {
      const diagnosis = await diagnose(app);
      const tried = findingsOf(diagnosis, 'server-reachable').find((item) => item.message.includes(role));
      expect(tried).toMatchObject({
        severity: 'warning',
        message: expect.stringMatching(
          new RegExp(`^Could not test the user mapping for ${role} as ${role}: permission denied`),
        ),
      });
    } finally {
      await app.query(`DROP OWNED BY ${role} CASCADE; DROP ROLE ${role}`);
    }
  });
});

describe('doctor with hostile names', () => {
  it('quotes a server and tables named with quotes and spaces, and finds their drift', async () => {
    const server = `odd "link" 'x'`;
    await legacy.query(`CREATE TABLE "we'ird ""t""" ("a b" int PRIMARY KEY, "c""d" text)`);
    const link = linkTo(pair.legacy, legacyDbName, 'DOCTOR_LEGACY_PASSWORD', { name: server });
    const table = link.foreignTable({
      name: `it's "odd"`,
      remote: { schema: 'public', name: `we'ird "t"` },
      columns: [
        { name: 'a b', type: 'integer' },
        { name: 'c"d', type: 'text' },
      ],
    });
    await applyInTransaction(app, buildMigration('odd', link, table), 'up');
    const healthy = await diagnose(appUrl);
    expect(notOk(healthy)).toEqual([]);
    expect(findingsOf(healthy, 'foreign-table-drift').map((item) => item.message)).toContain(
      `Its 2 columns match public."we'ird ""t""" on server ${server}.`,
    );
    await legacy.query(`ALTER TABLE "we'ird ""t""" DROP COLUMN "c""d"`);
    const drifted = await diagnose(appUrl);
    expect(notOk(drifted)).toMatchObject([
      {
        severity: 'error',
        subject: `foreign table public."it's ""odd"""`,
        message: expect.stringMatching(/^public\."we'ird ""t""" on server odd "link" 'x' no longer has "c""d"/),
      },
    ]);
  });
});

describe('doctor as a role that is not a superuser', () => {
  it('says what it could not test and why, reads no secret, and changes nothing', async () => {
    const role = uniqueRole('doctor_reader');
    const password = 'reader-pw-42';
    await app.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    try {
      const before = await catalogSnapshot(app);
      const url = appUrl.replace(/^postgres:\/\/[^@]+@/, `postgres://${role}:${password}@`);
      const diagnosis = await diagnose(url);
      expect(notOk(diagnosis).map((item) => [item.check, item.severity, item.subject])).toEqual([
        ['server-reachable', 'warning', 'server legacy'],
        ['foreign-table-drift', 'warning', 'server legacy'],
        ['sequence-headroom', 'warning', 'sequence orders__id_cache'],
        ['sequence-headroom', 'warning', 'sequence tickets_id_seq'],
      ]);
      expect(findingsOf(diagnosis, 'server-reachable')[0]).toMatchObject({
        message: `Could not test the user mapping for postgres: the doctor's role ${role} is not a member of postgres.`,
        fix: 'Run the doctor as postgres (or a superuser) to test that mapping.',
      });
      expect(diagnosis.exitCode).toBe(1);
      expect(JSON.stringify(diagnosis)).not.toContain(pair.legacy.password);
      expect(await catalogSnapshot(app)).toEqual(before);
    } finally {
      await app.query(`DROP ROLE ${role}`);
    }
  });
});

describe('doctor on a broken installation', () => {
  it('a dropped user mapping: the role the sync triggers run as has none', async () => {
    await app.query('DROP USER MAPPING FOR CURRENT_USER SERVER legacy');
    const diagnosis = await diagnose(appUrl);
    const [mapping] = findingsOf(diagnosis, 'user-mapping');
    expect(mapping).toMatchObject({ severity: 'error', subject: 'server legacy, role postgres' });
    expect(mapping!.message).toBe(
      'Role postgres has no user mapping on server legacy (nor has PUBLIC), but the sync triggers of public.notes, the sync triggers of public.products, the shared ids of public.orders__id_next_id() run as postgres (SECURITY DEFINER): every write that reaches the link fails.',
    );
    expect(mapping!.fix).toMatch(
      /^CREATE USER MAPPING FOR postgres SERVER legacy OPTIONS \(user '<remote role>', password '<password>'\)/,
    );
    expect(findingsOf(diagnosis, 'server-reachable')).toMatchObject([
      {
        severity: 'warning',
        message: "Not tested: neither the doctor's role postgres nor PUBLIC has a user mapping on server legacy.",
      },
    ]);
    expect(diagnosis.exitCode).toBe(1);
  });

  it("the triggers' function owner is the role that needs a mapping; each mapping is tried with its own password", async () => {
    const role = uniqueRole('doctor_sync_owner');
    const wrong = 'not-the-password-123';
    await app.query(`CREATE ROLE ${role}`);
    await app.query(`GRANT USAGE ON FOREIGN SERVER legacy TO ${role}`);
    await app.query(`ALTER FUNCTION products__sync_to_legacy() OWNER TO ${role}`);
    try {
      const missing = await diagnose(appUrl);
      expect(
        findingsOf(missing, 'user-mapping')
          .map((item) => [item.subject, item.severity])
          .sort(),
      ).toEqual([
        [`server legacy, role ${role}`, 'error'],
        ['server legacy, role postgres', 'ok'],
      ]);
      await app.query(
        `CREATE USER MAPPING FOR ${role} SERVER legacy OPTIONS (user '${pair.legacy.user}', password '${wrong}')`,
      );
      const diagnosis = await diagnose(appUrl);
      expect(findingsOf(diagnosis, 'user-mapping').every((item) => item.severity === 'ok')).toBe(true);
      const reach = findingsOf(diagnosis, 'server-reachable');
      expect(reach.map((item) => item.severity)).toEqual(['ok', 'error']);
      expect(reach[1]!.message).toMatch(
        new RegExp(
          `^Cannot reach database \\S+ at ${peerHost()}:\\d+ through the user mapping for ${role}, as ${role}: could not connect to server "legacy": .*password authentication failed for user "postgres"`,
        ),
      );
      expect(JSON.stringify(diagnosis)).not.toContain(wrong);
      expect(diagnosis.exitCode).toBe(1);
    } finally {
      await app.query(`DROP OWNED BY ${role} CASCADE; DROP ROLE ${role}`);
    }
  });

  it('an unreachable server (wrong port) gives the connection error, and the foreign tables are not compared', async () => {
    const before = await catalogSnapshot(app);
    await app.query(`ALTER SERVER legacy OPTIONS (SET port '1')`);
    const changed = await catalogSnapshot(app);
    const diagnosis = await diagnose(appUrl);
    const [reach] = findingsOf(diagnosis, 'server-reachable');
    expect(reach).toMatchObject({ severity: 'error', subject: 'server legacy' });
    expect(reach!.message).toMatch(
      new RegExp(
        `^Cannot reach database \\S+ at ${peerHost()}:1 through the user mapping for postgres, as postgres: could not connect to server "legacy": connection to server at "${peerHost()}"( \\([^)]+\\))?, port 1 failed: Connection refused`,
      ),
    );
    expect(reach!.fix).toContain(`ALTER SERVER legacy OPTIONS (SET port '5432')`);
    expect(reach!.message).not.toContain(pair.legacy.password);
    expect(findingsOf(diagnosis, 'foreign-table-drift')).toMatchObject([
      {
        severity: 'warning',
        message: 'The 6 foreign tables of server legacy were not compared with the remote: it could not be reached.',
      },
    ]);
    expect(diagnosis.exitCode).toBe(1);
    expect(await catalogSnapshot(app)).toEqual(changed);
    expect(changed).not.toEqual(before);
  });

  it('remote drift: a dropped column is an error, a changed type a warning, a new remote column informational', async () => {
    await legacy.query('ALTER TABLE catalogue ADD COLUMN stock integer');
    const added = await diagnose(appUrl);
    expect(findingsOf(added, 'foreign-table-drift')[0]).toMatchObject({
      severity: 'ok',
      message:
        'Its 3 columns match public.catalogue on server legacy. Remote columns not in this foreign table (informational): stock.',
    });
    expect(added.exitCode).toBe(0);

    await legacy.query('ALTER TABLE catalogue ALTER COLUMN title TYPE varchar(40)');
    const retyped = await diagnose(appUrl);
    expect(findingsOf(retyped, 'foreign-table-drift')[0]).toMatchObject({
      severity: 'warning',
      message:
        'Columns of public.catalogue on server legacy changed type: title is text here, character varying(40) there. Values convert through text, and may fail or lose precision. Remote columns not in this foreign table (informational): stock.',
      fix: "ALTER FOREIGN TABLE public.legacy_catalogue ALTER COLUMN title TYPE character varying(40) (or a changeMigration to a foreignTable spec with the remote's types).",
    });
    expect(retyped.exitCode).toBe(1);

    await legacy.query('ALTER TABLE catalogue DROP COLUMN price');
    const dropped = await diagnose(appUrl);
    expect(findingsOf(dropped, 'foreign-table-drift')[0]).toMatchObject({
      severity: 'error',
      subject: 'foreign table public.legacy_catalogue',
    });
    expect(findingsOf(dropped, 'foreign-table-drift')[0]!.message).toMatch(
      /^public\.catalogue on server legacy no longer has price: every query that reads or writes it through public\.legacy_catalogue fails\. Also changed: title/,
    );
    expect(dropped).toMatchObject({ worst: 'error', exitCode: 1 });
  });

  it('the remote role of a mapping must be allowed to write the endpoints and read the shared-id and plain tables', async () => {
    const role = uniqueRole('doctor_remote');
    const secret = 'doctor-remote-pw-1';
    await legacy.query(`CREATE ROLE ${role} LOGIN PASSWORD '${secret}'`);
    await app.query(
      `ALTER USER MAPPING FOR CURRENT_USER SERVER legacy OPTIONS (SET user '${role}', SET password '${secret}')`,
    );
    try {
      const views = endpointViews(
        { schema: 'public', name: 'products' },
        ['id'],
        ['id', 'name', 'description', 'price', 'created_at', 'updated_at'],
      );
      const denied = await diagnose(appUrl);
      expect(findingsOf(denied, 'remote-privilege').map((item) => [item.severity, item.subject])).toEqual([
        ['warning', 'foreign table public.legacy_catalogue'],
        ['error', 'foreign table public.notes__sync_to_legacy_delete'],
        ['error', 'foreign table public.notes__sync_to_legacy_upsert'],
        ['error', 'foreign table public.orders__id_source'],
        ['error', 'foreign table public.products__sync_to_legacy_delete'],
        ['error', 'foreign table public.products__sync_to_legacy_upsert'],
      ]);
      expect(findingsOf(denied, 'remote-privilege')[5]).toMatchObject({
        message: `The remote role ${role}, which the sync of public.products connects as, may not INSERT into the endpoint view public.${views.upsert.name} on server legacy: every write to public.products fails.`,
        fix: `In the database of server legacy: GRANT SELECT, INSERT ON public.${views.upsert.name} TO ${role}, or give its syncEndpoint grantTo: "${role}".`,
      });
      expect(denied).toMatchObject({ worst: 'error', exitCode: 1 });
      expect(JSON.stringify(denied)).not.toContain(secret);

      await legacy.query(`GRANT SELECT, INSERT ON ${views.upsert.name}, ${views.delete.name} TO ${role}`);
      await legacy.query(`GRANT SELECT ON catalogue TO ${role}`);
      await legacy.query(`GRANT SELECT, UPDATE ON orders__id_block TO ${role}`);
      const notes = endpointViews({ schema: 'public', name: 'notes' }, ['id'], ['id', 'body']);
      await legacy.query(`GRANT INSERT ON ${notes.upsert.name}, ${notes.delete.name} TO ${role}`);
      const allowed = await diagnose(appUrl);
      expect(notOk(allowed)).toEqual([]);
      expect(findingsOf(allowed, 'remote-privilege')).toEqual([
        {
          check: 'remote-privilege',
          severity: 'ok',
          subject: 'server legacy',
          message:
            'The remote roles may use what the 6 foreign tables of server legacy need (INSERT into sync endpoints, SELECT otherwise).',
        },
      ]);
    } finally {
      await legacy.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
    }
  });

  it('a sync endpoint missing on the remote', async () => {
    const views = endpointViews(
      { schema: 'public', name: 'products' },
      ['id'],
      ['id', 'name', 'description', 'price', 'created_at', 'updated_at'],
    );
    await legacy.query(`DROP VIEW ${views.upsert.name}`);
    const diagnosis = await diagnose(appUrl);
    expect(notOk(diagnosis)).toEqual([
      {
        check: 'sync-endpoint',
        severity: 'error',
        subject: 'foreign table public.products__sync_to_legacy_upsert',
        message: `The sync of public.products to server legacy writes into the remote view public.${views.upsert.name}, which that database does not have: every write to public.products fails.`,
        fix: 'In the database of server legacy, install syncEndpoint({ table, key, columns }) with exactly the columns (id, name, description, price, created_at, updated_at) and key of the syncTrigger (run its migration there).',
      },
    ]);
    expect(diagnosis.exitCode).toBe(1);
  });

  it('a disabled sync trigger is an error; one that skips or fires only in replica sessions a warning', async () => {
    await app.query('ALTER TABLE products ENABLE TRIGGER sync_to_legacy_delete');
    const origin = await diagnose(appUrl);
    expect(notOk(origin)).toMatchObject([
      {
        check: 'sync-trigger',
        severity: 'warning',
        message: expect.stringContaining(
          'sync_to_legacy_delete skip writes made with session_replication_role = replica',
        ),
        fix: 'ALTER TABLE public.products ENABLE ALWAYS TRIGGER sync_to_legacy_delete (then copy the rows changed meanwhile).',
      },
    ]);
    await app.query('ALTER TABLE products ENABLE ALWAYS TRIGGER sync_to_legacy_delete');

    await app.query('ALTER TABLE products ENABLE REPLICA TRIGGER sync_to_legacy_insert');
    const replica = await diagnose(appUrl);
    expect(notOk(replica)).toMatchObject([
      {
        check: 'sync-trigger',
        severity: 'warning',
        fix: 'ALTER TABLE public.products ENABLE ALWAYS TRIGGER sync_to_legacy_insert (then copy the rows changed meanwhile).',
      },
    ]);
    expect(replica.exitCode).toBe(1);

    await app.query('ALTER TABLE products DISABLE TRIGGER sync_to_legacy_update');
    const disabled = await diagnose(appUrl);
    expect(notOk(disabled)).toEqual([
      {
        check: 'sync-trigger',
        severity: 'error',
        subject: 'sync of public.products to server legacy',
        message:
          'sync_to_legacy_insert, sync_to_legacy_update will not fire: changes to public.products are not sent to server legacy, and the two sides drift apart. Triggers: sync_to_legacy_delete (enabled always), sync_to_legacy_insert (fires only in replica sessions), sync_to_legacy_truncate (enabled always), sync_to_legacy_update (disabled), sync_to_legacy_update_key (enabled always).',
        fix: 'ALTER TABLE public.products ENABLE ALWAYS TRIGGER sync_to_legacy_insert; ALTER TABLE public.products ENABLE ALWAYS TRIGGER sync_to_legacy_update (then copy the rows changed meanwhile).',
      },
    ]);
    expect(disabled).toMatchObject({ worst: 'error', exitCode: 1 });
  });

  it('sequence headroom: most of the range used is a warning, an exhausted sequence an error', async () => {
    // legacy's own orders ids are capped below the first shared block, at 999.
    await legacy.query(`SELECT setval('orders_id_seq', 850)`);
    const low = await diagnose(legacyUrl);
    expect(notOk(low)).toEqual([
      {
        check: 'sequence-headroom',
        severity: 'warning',
        subject: 'sequence orders_id_seq',
        message:
          'The id sequence of orders.id, capped below its first shared block has used 85.1 % of its range (at 850 of 1..999, step 1); 149 values are left.',
        fix: expect.stringMatching(
          /^Its cap is the first shared block: move the blocks up, with sharedIdSource and sharedIds migrations of a larger blockBase/,
        ),
      },
    ]);
    expect(low.exitCode).toBe(1);

    await legacy.query(`SELECT setval('orders_id_seq', 999)`);
    const exhausted = await diagnose(legacyUrl);
    expect(notOk(exhausted)).toMatchObject([
      {
        severity: 'error',
        subject: 'sequence orders_id_seq',
        message: expect.stringMatching(/is exhausted \(at 999 of 1\.\.999, step 1\): the next nextval fails/),
      },
    ]);
    expect(exhausted).toMatchObject({ worst: 'error', exitCode: 1 });
    await expect(legacy.query(`INSERT INTO orders (note) VALUES ('one more')`)).rejects.toThrow(
      /reached maximum value of sequence "orders_id_seq" \(999\)/,
    );

    // The per-row strategy shares the owner's own sequence: a serial (integer) one runs out first.
    await legacy.query('CREATE TABLE things (id serial PRIMARY KEY)');
    await applyInTransaction(
      legacy,
      buildMigration('per-row', sharedIdSource({ table: 'things', column: 'id', strategy: 'per-row' })),
      'up',
    );
    await legacy.query(`SELECT setval('things_id_seq', 2147483647)`);
    const perRow = await diagnose(legacyUrl);
    expect(
      findingsOf(perRow, 'sequence-headroom').find((item) => item.subject === 'sequence things_id_seq'),
    ).toMatchObject({
      severity: 'error',
      message:
        'The id sequence of things.id, shared per row through its __next view is exhausted (at 2147483647 of 1..2147483647, step 1): the next nextval fails, and so does every insert that needs an id.',
      fix: "ALTER SEQUENCE things_id_seq AS bigint; ALTER TABLE things ALTER COLUMN id TYPE bigint (its limits follow the type when they were the old type's).",
    });
    // The fix it gives works: the sequence has room again.
    await legacy.query('ALTER SEQUENCE things_id_seq AS bigint; ALTER TABLE things ALTER COLUMN id TYPE bigint');
    const widened = await diagnose(legacyUrl);
    expect(
      findingsOf(widened, 'sequence-headroom').find((item) => item.subject === 'sequence things_id_seq')!.severity,
    ).toBe('ok');

    await app.query(`SELECT setval('tickets_id_seq', 2147483646)`);
    const interleaved = await diagnose(appUrl);
    expect(notOk(interleaved)).toMatchObject([{ severity: 'error', subject: 'sequence tickets_id_seq' }]);
  });
});
