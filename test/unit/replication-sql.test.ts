import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  changeMigration,
  env,
  InvalidIdentifierError,
  InvalidOptionError,
  planMigrations,
  previewSql,
  publication,
  replicationSlot,
  secret,
  sqlExpression,
  subscription,
  type SyncNode,
} from '../../src/index.js';
import { renderNode } from '../../src/kinds/index.js';
import { resolveStatements } from '../../src/sql/index.js';
import { knexMigration } from '../../adapters/knex.js';

const up = (node: SyncNode) => renderNode(node).up.map(previewSql);
const down = (node: SyncNode) => renderNode(node).down.map(previewSql);
const versionGuard = (major: number, feature: string) =>
  expect.stringMatching(
    new RegExp(
      `^DO \\$pgsl\\$\\nBEGIN\\n  IF pg_catalog.current_setting\\('server_version_num'\\)::integer < ${major}0000 THEN[\\s\\S]*'${feature}', '${major}'`,
    ),
  );

const subscriber = {
  name: 'products_sub',
  host: 'legacy.internal',
  port: 5432,
  dbname: 'legacy',
  user: 'replicator',
  password: env('REPL_PASSWORD'),
  publications: ['products_pub'],
} as const;

describe('publication', () => {
  it('publishes tables by name, with every operation by default', () => {
    const node = publication({ name: 'products_pub', tables: ['products', { schema: 'Sales', name: 'order lines' }] });
    expect(up(node)).toEqual(['CREATE PUBLICATION products_pub FOR TABLE products, "Sales"."order lines"']);
    expect(down(node)).toEqual(['DROP PUBLICATION products_pub']);
    expect(buildMigration('publish', node).transactional).toBe(true);
  });

  it('writes column lists, row filters and options, behind a PostgreSQL 15 check', () => {
    const node = publication({
      name: 'cheap',
      tables: [
        { table: 'products', columns: ['id', 'Name'], where: sqlExpression("price < 100 AND name <> 'x'") },
        'orders',
      ],
      publish: ['insert', 'update', 'insert'],
      publishViaPartitionRoot: true,
    });
    expect(up(node)).toEqual([
      versionGuard(15, 'A publication with column lists or row filters'),
      `CREATE PUBLICATION cheap FOR TABLE products (id, "Name") WHERE (price < 100 AND name <> 'x'), orders WITH (publish = 'insert, update', publish_via_partition_root = 'true')`,
    ]);
  });

  it('publishes all tables', () => {
    expect(up(publication({ name: 'everything', allTables: true }))).toEqual([
      'CREATE PUBLICATION everything FOR ALL TABLES',
    ]);
  });

  it('refuses what cannot be published, saying what to fix', () => {
    expect(() => publication({ name: 'p' } as never)).toThrow(/needs tables \(or allTables: true\)/);
    expect(() => publication({ name: 'p', tables: ['t'], allTables: true })).toThrow(/either tables or allTables/);
    expect(() => publication({ name: 'p', tables: [] })).toThrow(/tables is empty/);
    expect(() => publication({ name: 'p', tables: ['t'], publish: ['upsert' as never] })).toThrow(
      /publish takes insert, update, delete, truncate/,
    );
    expect(() => publication({ name: 'p', tables: ['t'], publish: [] })).toThrow(/publishes nothing/);
    expect(() => publication({ name: 'p', tables: [{ table: 't', columns: [] }] })).toThrow(/columns is empty/);
    expect(() => publication({ name: 'p', tables: [{ table: 't', where: 'id > 0' as never }] })).toThrow(
      /must be an sqlExpression/,
    );
    expect(() => publication({ name: 'p', tables: ['t'], publsh: ['insert'] } as never)).toThrow(
      /Did you mean "publish"/,
    );
    expect(() => publication({ name: '', tables: ['t'] })).toThrow(InvalidIdentifierError);
  });
});

describe('replication slot', () => {
  it('makes a pgoutput slot, drops it only if it is still there, outside a transaction', () => {
    const node = replicationSlot({ name: 'products_sub' });
    expect(up(node)).toEqual([`SELECT pg_catalog.pg_create_logical_replication_slot('products_sub', 'pgoutput')`]);
    expect(down(node)).toEqual([
      `SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots WHERE slot_name = 'products_sub' AND database = pg_catalog.current_database()`,
    ]);
    expect(buildMigration('slot', publication({ name: 'p', tables: ['t'] }), node).transactional).toBe(false);
  });

  it('takes only names PostgreSQL accepts for a slot', () => {
    for (const name of ['Products', 'a-b', "x'y", '', 'a'.repeat(64)]) {
      expect(() => replicationSlot({ name })).toThrow(/lower-case letters, digits and underscores/);
    }
  });
});

describe('subscription', () => {
  it('connects when created, without making a slot; the connection string is redacted when printed', () => {
    const node = subscription(subscriber);
    expect(up(node)).toHaveLength(1);
    expect(up(node)[0]).toContain(
      `CREATE SUBSCRIPTION products_sub CONNECTION '[redacted connection host=legacy.internal port=5432 dbname=legacy user=replicator password=env:REPL_PASSWORD]' PUBLICATION products_pub WITH (create_slot = false, slot_name = 'products_sub', copy_data = true);`,
    );
    // In the same statement: a subscription that receives no table is refused, so the CREATE is undone.
    expect(up(node)[0]).toMatch(/^DO \$pgsl_sub\$/);
    expect(up(node)[0]).toContain(
      'IF NOT EXISTS (SELECT FROM pg_catalog.pg_subscription_rel r WHERE r.srsubid = created) THEN',
    );
    expect(up(node)[0]).toContain(
      `Run the publisher''s migration first, on database legacy on host legacy.internal port 5432: publication "products_pub" and replicationSlot "products_sub"`,
    );
    expect(down(node)).toEqual(['DROP SUBSCRIPTION products_sub']);
    const migration = buildMigration('subscribe', node);
    expect(migration.transactional).toBe(false);
    expect(knexMigration(node).config).toEqual({ transaction: false });
    expect(planMigrations('app', node).map((step) => [step.id, step.transactional])).toEqual([
      ['app/001-subscription-products_sub', false],
    ]);
  });

  it('binds the whole connection string, libpq-quoted, and never writes the password into a statement', async () => {
    process.env.REPL_UNIT_PASSWORD = `pa'ss\\wörd`;
    const node = subscription({
      ...subscriber,
      host: "db 'one'",
      password: env('REPL_UNIT_PASSWORD'),
      sslmode: 'verify-full',
      connectTimeout: 10,
    });
    const { statements, secrets } = await resolveStatements(buildMigration('subscribe', node).up);
    const conninfo = `host='db \\'one\\'' port='5432' dbname='legacy' user='replicator' password='pa\\'ss\\\\wörd' sslmode='verify-full' connect_timeout='10'`;
    expect(secrets).toEqual([conninfo]);
    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(statement!.setup).toEqual({
      text: `SELECT pg_catalog.set_config('pg_sync_link.secret_1', $1, false)`,
      values: [conninfo],
    });
    // Executed from the bound setting; a failure is raised again without the context that would quote it.
    expect(statement!.main.text).toContain(`BEGIN EXECUTE pg_catalog.format('DO $pgsl_sub$DECLARE created oid;`);
    expect(statement!.main.text).toContain(
      `CREATE SUBSCRIPTION products_sub CONNECTION %L PUBLICATION products_pub WITH (create_slot = false, slot_name = ''products_sub'', copy_data = true);`,
    );
    expect(statement!.main.text).toContain(
      `END$pgsl_sub$', pg_catalog.current_setting('pg_sync_link.secret_1')); EXCEPTION WHEN OTHERS THEN`,
    );
    expect(
      statements
        .flatMap((each) => [each.before, each.setup, each.main, each.cleanup, each.after])
        .map((each) => each?.text)
        .join('\n'),
    ).not.toContain('wörd');
  });

  it('without a password, the connection string is a plain literal', () => {
    const { password: _password, ...noPassword } = subscriber;
    expect(up(subscription({ ...noPassword, host: "o'brien" }))[0]).toContain(
      `CREATE SUBSCRIPTION products_sub CONNECTION E'host=''o\\\\''brien'' port=''5432'' dbname=''legacy'' user=''replicator''' PUBLICATION products_pub WITH (create_slot = false, slot_name = 'products_sub', copy_data = true);`,
    );
  });

  it('checks the expected tables in the same statement, and refuses a connection value holding its quote tag', async () => {
    const node = subscription({ ...subscriber, expectTables: ['products', { schema: 'sales', name: 'Orders' }] });
    expect(up(node)[0]).toContain(`pg_catalog.unnest(ARRAY['products', 'sales."Orders"']::text[]) AS wanted`);
    expect(() => subscription({ ...subscriber, expectTables: [42 as unknown as string] })).toThrow();
    process.env.REPL_UNIT_TAG = 'x$pgsl_sub$y';
    const tagged = subscription({ ...subscriber, password: env('REPL_UNIT_TAG') });
    await expect(resolveStatements(buildMigration('subscribe', tagged).up)).rejects.toThrow(/cannot send/);
  });

  it('writes the options, each newer one behind a check of the server version', () => {
    const node = subscription({
      ...subscriber,
      publications: ['a', 'b'],
      slotName: 'app_slot',
      copyData: false,
      origin: 'none',
      enabled: false,
      binary: true,
      streaming: 'parallel',
      disableOnError: true,
    });
    expect(up(node)).toEqual([
      versionGuard(16, 'Subscription option origin = none, streaming = parallel'),
      versionGuard(15, 'Subscription option disable_on_error = true'),
      expect.stringContaining(
        `PUBLICATION a, b WITH (create_slot = false, slot_name = 'app_slot', copy_data = false, origin = 'none', enabled = false, "binary" = true, streaming = 'parallel', disable_on_error = true)`,
      ),
    ]);
  });

  it('refuses what it cannot use, saying what to fix', () => {
    expect(() => subscription({ ...subscriber, password: 'hunter2' as never })).toThrow(
      /password must be deferred, env\('VARIABLE'\)/,
    );
    expect(() => subscription({ ...subscriber, publications: [] })).toThrow(/needs publications/);
    expect(() => subscription({ ...subscriber, user: undefined } as never)).toThrow(
      /needs user: the publisher's role to connect as/,
    );
    expect(() => subscription({ ...subscriber, name: 'Products Sub' })).toThrow(/give slotName/);
    expect(() => subscription({ ...subscriber, slotName: 'Bad-Slot' })).toThrow(/lower-case letters/);
    expect(() => subscription({ ...subscriber, origin: 'local' as never })).toThrow(/origin must be 'none' or 'any'/);
    expect(() => subscription({ ...subscriber, streaming: 'on' as never })).toThrow(
      /streaming must be true, false or 'parallel'/,
    );
    expect(() => subscription({ ...subscriber, sslmode: 'on' as never })).toThrow(/sslmode must be one of/);
    expect(() => subscription({ ...subscriber, connectTimeout: 0 })).toThrow(/connectTimeout/);
    expect(() => subscription({ ...subscriber, copy_data: true } as never)).toThrow(InvalidOptionError);
    const { password: _password, ...noPassword } = subscriber;
    expect(() => subscription({ ...noPassword, port: 70000 })).toThrow(/port must be a port number/);
  });

  it('checks deferred connection values when the migration runs, naming them, not their values', async () => {
    const node = subscription({ ...subscriber, port: secret('port', () => '99999') });
    await expect(resolveStatements(buildMigration('s', node).up)).rejects.toThrow(
      /The value of secret:port for subscription "products_sub", connection must be a port number/,
    );
  });
});

describe('a subscription across versions', () => {
  it('cannot be changed in place, since dropping it drops its slot; a new one with a new slot replaces it', () => {
    const v1 = subscription(subscriber);
    const v2 = subscription({ ...subscriber, copyData: false });
    expect(() => changeMigration('app/v2', [v1], [v2])).toThrow(
      /cannot be changed in place: give the new version a subscription with another name and slot/,
    );
    const v3 = subscription({ ...subscriber, name: 'products_sub_v3' });
    const change = changeMigration('app/v3', [v1], [v3]);
    expect(change.up.map(previewSql)).toEqual([
      'DROP SUBSCRIPTION products_sub',
      expect.stringContaining("CREATE SUBSCRIPTION products_sub_v3 CONNECTION '[redacted"),
    ]);
    expect(change.transactional).toBe(false);
  });
});
