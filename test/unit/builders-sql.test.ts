import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  env,
  fdwLink,
  foreignServer,
  foreignTable,
  importForeignSchema,
  previewMigration,
  previewSql,
  userMapping,
  type SyncNode,
} from '../../src/index.js';
import { renderNode } from '../../src/kinds/index.js';

const up = (node: SyncNode) => renderNode(node).up.map(previewSql);
const down = (node: SyncNode) => renderNode(node).down.map(previewSql);

describe('foreign server', () => {
  it('writes host, port, dbname first, then other options in the order given', () => {
    const node = foreignServer({
      name: 'legacy',
      host: 'db.internal',
      port: 5432,
      dbname: 'legacy_app',
      options: {
        fetch_size: 1000,
        batch_size: 100,
        use_remote_estimate: true,
        keep_connections: false,
        application_name: 'pg-sync-link',
        sslmode: 'verify-full',
      },
    });
    expect(up(node)).toEqual([
      "CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db.internal', port '5432', dbname 'legacy_app', connect_timeout '10', keepalives '1', keepalives_idle '30', keepalives_interval '10', keepalives_count '3', tcp_user_timeout '60000', fetch_size '1000', batch_size '100', use_remote_estimate 'true', keep_connections 'false', application_name 'pg-sync-link', sslmode 'verify-full')",
    ]);
    expect(down(node)).toEqual(['DROP SERVER legacy']);
  });

  it('leaves out an absent port and quotes names that need it', () => {
    const node = foreignServer({ name: 'Legacy Server', host: '/var/run/postgresql', dbname: "o'brien" });
    expect(up(node)).toEqual([
      `CREATE SERVER "Legacy Server" FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '/var/run/postgresql', dbname 'o''brien', connect_timeout '10', keepalives '1', keepalives_idle '30', keepalives_interval '10', keepalives_count '3', tcp_user_timeout '60000')`,
    ]);
    expect(down(node)).toEqual(['DROP SERVER "Legacy Server"']);
  });

  it('shows deferred values by their label', () => {
    const node = foreignServer({
      name: 'legacy',
      host: env('LEGACY_DB_HOST'),
      port: env('LEGACY_DB_PORT'),
      dbname: 'legacy',
    });
    expect(up(node)).toEqual([
      "CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '[env:LEGACY_DB_HOST]', port '[env:LEGACY_DB_PORT]', dbname 'legacy', connect_timeout '10', keepalives '1', keepalives_idle '30', keepalives_interval '10', keepalives_count '3', tcp_user_timeout '60000')",
    ]);
  });
});

describe('user mapping', () => {
  it('maps CURRENT_USER by default with the password redacted', () => {
    const node = userMapping({ server: 'legacy', user: 'abcdef', password: env('LEGACY_DB_PASSWORD') });
    expect(up(node)).toEqual([
      `CREATE USER MAPPING FOR CURRENT_USER SERVER legacy OPTIONS ("user" 'abcdef', password '[redacted env:LEGACY_DB_PASSWORD]')`,
    ]);
    expect(down(node)).toEqual(['DROP USER MAPPING FOR CURRENT_USER SERVER legacy']);
  });

  it('maps PUBLIC, CURRENT_ROLE, SESSION_USER and named roles', () => {
    expect(up(userMapping({ server: 's', for: 'PUBLIC', user: 'u' }))).toEqual([
      `CREATE USER MAPPING FOR PUBLIC SERVER s OPTIONS ("user" 'u')`,
    ]);
    expect(down(userMapping({ server: 's', for: 'CURRENT_ROLE' }))).toEqual([
      'DROP USER MAPPING FOR CURRENT_ROLE SERVER s',
    ]);
    expect(down(userMapping({ server: 's', for: 'SESSION_USER' }))).toEqual([
      'DROP USER MAPPING FOR SESSION_USER SERVER s',
    ]);
    expect(
      up(userMapping({ server: 's', for: { role: 'app_writer' }, password_required: false, password: env('P') })),
    ).toEqual([
      `CREATE USER MAPPING FOR app_writer SERVER s OPTIONS (password_required 'false', password '[redacted env:P]')`,
    ]);
    expect(down(userMapping({ server: 's', for: { role: 'Report "Reader"' } }))).toEqual([
      'DROP USER MAPPING FOR "Report ""Reader""" SERVER s',
    ]);
  });
});

describe('foreign table', () => {
  it('writes typed columns, remote names and table options', () => {
    const node = foreignTable({
      server: 'legacy',
      name: { schema: 'legacy', name: 'products' },
      remote: { schema: 'shop', name: 'Products' },
      columns: [
        { name: 'id', type: 'BIGINT', notNull: true },
        { name: 'name', type: 'varchar( 255 )' },
        { name: 'price', type: 'numeric(10, 2)', remoteName: 'price_eur' },
        { name: 'tags', type: 'text[]' },
        { name: 'created_at', type: 'timestamp(3)  with time zone' },
        { name: 'order', type: 'integer' },
      ],
      options: { updatable: false, fetch_size: 500 },
    });
    expect(up(node)).toEqual([
      `CREATE FOREIGN TABLE legacy.products (
  id bigint NOT NULL,
  name varchar(255),
  price numeric(10,2) OPTIONS (column_name 'price_eur'),
  tags text[],
  created_at timestamp(3) with time zone,
  "order" integer
) SERVER legacy OPTIONS (schema_name 'shop', table_name 'Products', updatable 'false', fetch_size '500')`,
    ]);
    expect(down(node)).toEqual(['DROP FOREIGN TABLE legacy.products']);
  });

  it('defaults the remote to public and the local name', () => {
    const node = foreignTable({ server: 'legacy', name: 'products', columns: [{ name: 'id', type: 'bigint' }] });
    expect(up(node)).toEqual([
      `CREATE FOREIGN TABLE products (
  id bigint
) SERVER legacy OPTIONS (schema_name 'public', table_name 'products')`,
    ]);
  });
});

describe('import foreign schema', () => {
  it('tags what it imports and down drops only tagged tables', () => {
    const node = importForeignSchema({
      server: 'legacy',
      remoteSchema: 'public',
      into: 'legacy',
      limitTo: ['products', 'Order Lines'],
      options: { import_default: true },
    });
    const [upSql] = up(node);
    expect(upSql).toContain(
      `IMPORT FOREIGN SCHEMA public LIMIT TO (products, "Order Lines") FROM SERVER legacy INTO legacy OPTIONS (import_default 'true');`,
    );
    expect(upSql).toContain(`'pg-sync-link: imported from server legacy, remote schema public'`);
    expect(upSql).toMatch(/^DO \$pgsl\$\n[\s\S]*\n\$pgsl\$$/);
    const [downSql] = down(node);
    expect(downSql).toContain(
      `pg_catalog.obj_description(c.oid, 'pg_class') = 'pg-sync-link: imported from server legacy, remote schema public'`,
    );
    expect(downSql).toContain(`EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s', imported);`);
  });

  it('creates and drops the local schema when asked, around the import', () => {
    const node = importForeignSchema({
      server: 'legacy',
      remoteSchema: 'public',
      into: 'legacy',
      createSchema: true,
      except: ['audit_log'],
    });
    const ups = up(node);
    expect(ups[0]).toBe('CREATE SCHEMA legacy');
    expect(ups[1]).toContain('IMPORT FOREIGN SCHEMA public EXCEPT (audit_log) FROM SERVER legacy INTO legacy;');
    const downs = down(node);
    expect(downs).toHaveLength(2);
    expect(downs[1]).toBe('DROP SCHEMA legacy');
  });

  it('picks a dollar-quote tag that no quoted value contains', () => {
    const node = importForeignSchema({ server: 'srv$pgsl$', remoteSchema: 'x$pgsl', into: 'y' });
    const upSql = up(node)[0]!;
    expect(upSql.startsWith('DO $pgsl1$')).toBe(true);
    expect(upSql.endsWith('$pgsl1$')).toBe(true);
  });
});

describe('fdwLink', () => {
  it('composes extension, server and mappings; down is the exact reverse', () => {
    const link = fdwLink({
      name: 'legacy',
      host: 'localhost',
      port: 5432,
      dbname: 'legacy',
      userMappings: [{ user: env('LEGACY_DB_USER'), password: env('LEGACY_DB_PASSWORD') }],
    });
    const migration = buildMigration(
      'legacy',
      link,
      link.foreignTable({
        name: 'legacy_products',
        remote: { name: 'products' },
        columns: [{ name: 'id', type: 'bigint' }],
      }),
    );
    expect(migration.up.map(previewSql).map((sql) => sql.split('\n')[0])).toEqual([
      'DO $pgsl$',
      "CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'localhost', port '5432', dbname 'legacy', connect_timeout '10', keepalives '1', keepalives_idle '30', keepalives_interval '10', keepalives_count '3', tcp_user_timeout '60000')",
      `CREATE USER MAPPING FOR CURRENT_USER SERVER legacy OPTIONS ("user" '[env:LEGACY_DB_USER]', password '[redacted env:LEGACY_DB_PASSWORD]')`,
      'DO $pgsl$',
      'CREATE FOREIGN TABLE legacy_products (',
    ]);
    expect(migration.down.map(previewSql).map((sql) => sql.split('\n')[0])).toEqual([
      'DROP FOREIGN TABLE legacy_products',
      'DROP USER MAPPING FOR CURRENT_USER SERVER legacy',
      'DROP SERVER legacy',
      'DO $pgsl$',
    ]);
    expect(migration.transactional).toBe(true);
  });

  it('a Knex module runs outside a transaction exactly when its migration must', async () => {
    const { knexMigration, knexMigrationFrom } = await import('../../adapters/knex.js');
    const migration = buildMigration('srv', foreignServer({ name: 'legacy', host: 'h', dbname: 'd' }));
    expect(knexMigration(migration).config).toEqual({ transaction: true });
    expect(knexMigrationFrom({ ...migration, transactional: false }).config).toEqual({ transaction: false });
  });

  it('checks the connection after the mappings, with nothing to undo', () => {
    const link = fdwLink({ name: 'legacy', host: 'h', dbname: 'd', userMappings: [{ user: 'u' }] });
    const migration = buildMigration('legacy', link);
    const check = previewSql(migration.up.at(-1)!);
    expect(check).toContain(
      `CREATE FOREIGN TABLE pg_temp.pg_sync_link_probe (one integer) SERVER legacy OPTIONS (schema_name 'pg_catalog', table_name 'pg_database');`,
    );
    expect(check).toContain('PERFORM 1 FROM pg_temp.pg_sync_link_probe LIMIT 1;');
    expect(check).toContain(
      `pg_catalog.format('foreign server %I cannot reach its remote database as role %I: %s', 'legacy', CURRENT_USER, failure_message)`,
    );
    expect(migration.down).toHaveLength(3);
  });

  it('checks only when the migrating role has a mapping, and not when told not to', () => {
    const count = (link: ReturnType<typeof fdwLink>) => buildMigration('x', link).up.length;
    const password = env('PG_SYNC_LINK_UNIT_PASSWORD');
    expect(count(fdwLink({ name: 'a', host: 'h', dbname: 'd', userMappings: [{ user: 'u', password }] }))).toBe(4);
    expect(
      count(fdwLink({ name: 'a', host: 'h', dbname: 'd', userMappings: [{ user: 'u', password }], verify: false })),
    ).toBe(3);
    expect(
      count(
        fdwLink({ name: 'a', host: 'h', dbname: 'd', userMappings: [{ for: { role: 'other' }, user: 'u', password }] }),
      ),
    ).toBe(3);
    // A mapping with no password gets a check that its role is a superuser (see user-mapping.ts).
    expect(count(fdwLink({ name: 'a', host: 'h', dbname: 'd', userMappings: [{ user: 'u' }] }))).toBe(5);
    expect(
      count(
        fdwLink({ name: 'a', host: 'h', dbname: 'd', userMappings: [{ for: 'PUBLIC', user: 'u' }], verify: false }),
      ),
    ).toBe(3);
    expect(
      count(
        fdwLink({
          name: 'a',
          host: 'h',
          dbname: 'd',
          userMappings: [{ user: 'u', password_required: false }],
          verify: false,
        }),
      ),
    ).toBe(3);
    expect(count(fdwLink({ name: 'a', host: 'h', dbname: 'd' }))).toBe(2);
  });

  it('writes the shared extension once when two links share a migration', () => {
    const a = fdwLink({ name: 'a', host: 'h', dbname: 'd' });
    const b = fdwLink({ name: 'b', host: 'h', dbname: 'd' });
    const migration = buildMigration('both', a, b);
    expect(migration.up.filter((statement) => previewSql(statement).includes('CREATE EXTENSION'))).toHaveLength(1);
    expect(previewSql(migration.down.at(-1)!)).toContain('DROP EXTENSION postgres_fdw');
  });

  it('bounds connection waits by default; options override a default or leave it out', () => {
    const server = foreignServer({
      name: 'legacy',
      host: 'h',
      dbname: 'd',
      options: { connect_timeout: 3, tcp_user_timeout: undefined },
    });
    expect(previewSql(renderNode(server).up[0]!)).toBe(
      "CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'h', dbname 'd', connect_timeout '3', keepalives '1', keepalives_idle '30', keepalives_interval '10', keepalives_count '3')",
    );
  });

  it('previews a whole migration as a reviewable script', () => {
    const migration = buildMigration('srv', foreignServer({ name: 'legacy', host: 'h', dbname: 'd' }));
    expect(previewMigration(migration)).toBe(
      "CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'h', dbname 'd', connect_timeout '10', keepalives '1', keepalives_idle '30', keepalives_interval '10', keepalives_count '3', tcp_user_timeout '60000');",
    );
    expect(previewMigration(migration, 'down')).toBe('DROP SERVER legacy;');
  });
});
