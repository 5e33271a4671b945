import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  foreignServer,
  InvalidIdentifierError,
  InvalidOptionError,
  previewSql,
  sqlExpression,
  syncEndpoint,
  syncTrigger,
} from '../../src/index.js';
import { renderNode } from '../../src/kinds/index.js';
import { endpointViews } from '../../src/kinds/sync/sync-names.js';

const sync = { server: 'legacy', table: 'products', key: ['id'], columns: ['id', 'name'] };

describe('syncEndpoint', () => {
  it('writes two views whose rules upsert and delete by key', () => {
    const { up, down } = renderNode(
      syncEndpoint({
        table: { schema: 'shop', name: 'products' },
        key: ['id'],
        columns: ['id', 'name', 'price'],
        grantTo: 'sync_from_app',
      }),
    );
    const views = endpointViews({ schema: 'shop', name: 'products' }, ['id'], ['price', 'id', 'name']);
    const [upsert, remove] = [views.upsert.name, views.delete.name];
    expect(upsert).toMatch(/^products__sync_upsert_[0-9a-f]{8}$/);
    expect(remove).toMatch(/^products__sync_delete_[0-9a-f]{8}$/);
    expect(up.slice(1).map(previewSql)).toEqual([
      `CREATE VIEW shop.${upsert} AS SELECT id, name, price FROM shop.products WHERE false`,
      `CREATE RULE sync_upsert AS ON INSERT TO shop.${upsert} DO INSTEAD
  INSERT INTO shop.products AS target (id, name, price) VALUES (NEW.id, NEW.name, NEW.price)
  ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, price = EXCLUDED.price`,
      `CREATE VIEW shop.${remove} AS SELECT id FROM shop.products WHERE false`,
      `CREATE RULE sync_delete AS ON INSERT TO shop.${remove} DO INSTEAD
  DELETE FROM shop.products AS target WHERE target.id = NEW.id`,
      `GRANT SELECT, INSERT ON shop.${upsert}, shop.${remove} TO sync_from_app`,
    ]);
    expect(previewSql(up[0]!)).toContain(`WHERE i.indrelid = 'shop.products'::pg_catalog.regclass`);
    expect(down.map(previewSql)).toEqual([`DROP VIEW shop.${remove}`, `DROP VIEW shop.${upsert}`]);
  });

  it("names each column set's endpoint apart, so versions of a sync can run side by side", () => {
    const one = endpointViews({ schema: 'public', name: 'p' }, ['id'], ['id', 'name']);
    const two = endpointViews({ schema: 'public', name: 'p' }, ['id'], ['id', 'name', 'price']);
    expect(one.upsert.name).not.toBe(two.upsert.name);
    expect(one.delete.name).not.toBe(two.delete.name);
    expect(endpointViews({ schema: 'public', name: 'p' }, ['id'], ['name', 'id'])).toEqual(one);
  });

  it('does nothing on conflict when every column is key, and matches composite keys on all parts', () => {
    const { up } = renderNode(syncEndpoint({ table: 'links', key: ['a', 'b'], columns: ['a', 'b'] }));
    expect(previewSql(up[2]!)).toContain('ON CONFLICT (a, b) DO NOTHING');
    expect(previewSql(up[4]!)).toContain('WHERE target.a = NEW.a AND target.b = NEW.b');
  });

  it('refuses a key outside the columns and repeated columns', () => {
    expect(() => syncEndpoint({ table: 't', key: ['id'], columns: ['name'] })).toThrow(
      /key column "id" is not among the columns/,
    );
    expect(() => syncEndpoint({ table: 't', key: ['id'], columns: ['id', 'id'] })).toThrow(/names a column twice/);
    expect(() => syncEndpoint({ table: 't', key: [], columns: ['id'] })).toThrow(/needs a key/);
  });
});

describe('syncTrigger', () => {
  it('writes statement triggers with transition tables, and a row trigger for moved keys', () => {
    const { up, down } = renderNode(syncTrigger(sync));
    // Every trigger fires always (replica sessions too); the first refuses TRUNCATE.
    expect(up.slice(2).map(previewSql)).toEqual([
      `CREATE TRIGGER sync_to_legacy_truncate BEFORE TRUNCATE ON public.products FOR EACH STATEMENT EXECUTE FUNCTION public.products__sync_to_legacy('truncate')`,
      'ALTER TABLE public.products ENABLE ALWAYS TRIGGER sync_to_legacy_truncate',
      `CREATE TRIGGER sync_to_legacy_insert AFTER INSERT ON public.products REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION public.products__sync_to_legacy('upsert')`,
      'ALTER TABLE public.products ENABLE ALWAYS TRIGGER sync_to_legacy_insert',
      `CREATE TRIGGER sync_to_legacy_update AFTER UPDATE ON public.products REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION public.products__sync_to_legacy('upsert')`,
      'ALTER TABLE public.products ENABLE ALWAYS TRIGGER sync_to_legacy_update',
      `CREATE TRIGGER sync_to_legacy_update_key AFTER UPDATE OF id ON public.products FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION public.products__sync_to_legacy('moved')`,
      'ALTER TABLE public.products ENABLE ALWAYS TRIGGER sync_to_legacy_update_key',
      `CREATE TRIGGER sync_to_legacy_delete AFTER DELETE ON public.products REFERENCING OLD TABLE AS pg_sync_old FOR EACH STATEMENT EXECUTE FUNCTION public.products__sync_to_legacy('delete')`,
      'ALTER TABLE public.products ENABLE ALWAYS TRIGGER sync_to_legacy_delete',
    ]);
    expect(down.map(previewSql)).toEqual([
      'DROP TRIGGER sync_to_legacy_delete ON public.products',
      'DROP TRIGGER sync_to_legacy_update_key ON public.products',
      'DROP TRIGGER sync_to_legacy_update ON public.products',
      'DROP TRIGGER sync_to_legacy_insert ON public.products',
      'DROP TRIGGER sync_to_legacy_truncate ON public.products',
      'DROP FUNCTION public.products__sync_to_legacy()',
      'DROP FOREIGN TABLE public.products__sync_to_legacy_delete',
      'DROP FOREIGN TABLE public.products__sync_to_legacy_upsert',
    ]);
  });

  it('runs with a fixed search_path as its owner and names the link in its errors', () => {
    const { up } = renderNode(syncTrigger({ ...sync, ignoreWritesBy: { role: 'sync_from_legacy' } }));
    // A role that does not exist is refused first: the guard would never match.
    expect(previewSql(up[0]!)).toContain(
      `IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'sync_from_legacy') THEN`,
    );
    const fn = previewSql(up[2]!);
    expect(fn).toContain('LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp');
    expect(fn).toContain(`IF SESSION_USER = 'sync_from_legacy' THEN\n    RETURN NULL;`);
    expect(fn).toContain(
      'INSERT INTO public.products__sync_to_legacy_upsert (id, name) SELECT src.id, src.name FROM pg_sync_new AS src;',
    );
    expect(fn).toContain(`'public.products to public.products on server legacy'`);
  });

  it('maps renamed and computed columns, and compares computed keys as sets', () => {
    const node = syncTrigger({
      server: 'legacy',
      table: { schema: 'app', name: 'timesheets' },
      remote: { schema: 'old', name: 'timesheet_old' },
      key: ['ref'],
      columns: [
        { remote: 'ref', expression: sqlExpression(`'T-' || src.id`) },
        { remote: 'worker_id', local: 'worker' },
      ],
      ignoreWritesBy: { applicationName: 'pg-sync-link from legacy' },
    });
    const { up } = renderNode(node);
    const fn = previewSql(up[1]!);
    expect(fn).toContain(
      `INSERT INTO app.timesheets__sync_to_legacy_upsert (ref, worker_id) SELECT ('T-' || src.id), src.worker FROM pg_sync_new AS src;`,
    );
    expect(fn).toContain(`IF pg_catalog.current_setting('application_name') = 'pg-sync-link from legacy' THEN`);
    expect(previewSql(up[0]!)).toContain(
      `table_name ''${endpointViews({ schema: 'old', name: 'timesheet_old' }, ['ref'], ['ref', 'worker_id']).upsert.name}''`,
    );
    expect(previewSql(up[8]!)).toBe(
      `CREATE TRIGGER sync_to_legacy_update_key AFTER UPDATE ON app.timesheets REFERENCING OLD TABLE AS pg_sync_old NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION app.timesheets__sync_to_legacy('vanished')`,
    );
  });

  it('creates only the triggers of the chosen operations', () => {
    const { up } = renderNode(syncTrigger({ ...sync, operations: ['delete'] }));
    expect(up.map(previewSql).filter((statement) => statement.startsWith('CREATE TRIGGER'))).toEqual([
      expect.stringMatching(/^CREATE TRIGGER sync_to_legacy_truncate BEFORE TRUNCATE/),
      expect.stringMatching(/^CREATE TRIGGER sync_to_legacy_delete AFTER DELETE/),
    ]);
  });

  it('at commit: statement triggers note keys, one deferred constraint trigger sends', () => {
    const { up, down } = renderNode(syncTrigger({ ...sync, timing: 'commit', operations: ['insert', 'delete'] }));
    const statements = up.map(previewSql);
    expect(statements.slice(2)).toEqual([
      `CREATE TRIGGER sync_to_legacy_truncate BEFORE TRUNCATE ON public.products FOR EACH STATEMENT EXECUTE FUNCTION public.products__sync_to_legacy('truncate')`,
      'ALTER TABLE public.products ENABLE ALWAYS TRIGGER sync_to_legacy_truncate',
      `CREATE TRIGGER sync_to_legacy_insert AFTER INSERT ON public.products REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION public.products__sync_to_legacy('record_new')`,
      'ALTER TABLE public.products ENABLE ALWAYS TRIGGER sync_to_legacy_insert',
      `CREATE TRIGGER sync_to_legacy_delete AFTER DELETE ON public.products REFERENCING OLD TABLE AS pg_sync_old FOR EACH STATEMENT EXECUTE FUNCTION public.products__sync_to_legacy('record_old')`,
      'ALTER TABLE public.products ENABLE ALWAYS TRIGGER sync_to_legacy_delete',
      `CREATE CONSTRAINT TRIGGER sync_to_legacy_commit AFTER INSERT OR DELETE ON public.products DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.products__sync_to_legacy('flush')`,
      'ALTER TABLE public.products ENABLE ALWAYS TRIGGER sync_to_legacy_commit',
    ]);
    expect(statements[1]).toMatch(
      /CREATE TEMPORARY TABLE sync_pending_[0-9a-f]{8} ON COMMIT DELETE ROWS AS SELECT id FROM public\.products WHERE false;/,
    );
    expect(previewSql(down[0]!)).toBe('DROP TRIGGER sync_to_legacy_commit ON public.products');
  });

  it('at commit, keys must be local columns', () => {
    expect(() =>
      syncTrigger({
        ...sync,
        timing: 'commit',
        columns: [{ remote: 'id', expression: sqlExpression('src.a') }, 'name'],
      }),
    ).toThrow(/with timing 'commit', key column "id" must come from a local column/);
    expect(() => syncTrigger({ ...sync, timing: 'later' as never })).toThrow(/timing must be 'immediate' or 'commit'/);
  });

  it('refuses bad specs with what to fix', () => {
    expect(() => syncTrigger({ ...sync, key: ['ref'] })).toThrow(
      /key column "ref" is not among the columns; add it to columns/,
    );
    expect(() => syncTrigger({ ...sync, columns: [] })).toThrow(/at least one column/);
    expect(() => syncTrigger({ ...sync, columns: ['id', { remote: 'id', local: 'x' }] })).toThrow(
      /names remote column "id" twice/,
    );
    expect(() => syncTrigger({ ...sync, columns: ['id', { remote: 'x', expression: 'src.a' as never }] })).toThrow(
      /must be made with sqlExpression/,
    );
    expect(() =>
      syncTrigger({ ...sync, columns: ['id', { remote: 'x', local: 'a', expression: sqlExpression('1') }] }),
    ).toThrow(/local or expression, not both/);
    expect(() => syncTrigger({ ...sync, operations: ['upsert' as never] })).toThrow(
      /"upsert" is not one of insert, update, delete/,
    );
    expect(() => syncTrigger({ ...sync, ignoreWritesBy: { role: 'a', applicationName: 'b' } as never })).toThrow(
      /either \{ role \} or \{ applicationName \}/,
    );
    expect(() => syncTrigger({ ...sync, batchSize: 0 })).toThrow(InvalidOptionError);
    // Any name PostgreSQL holds is accepted: long derived names are shortened with a hash.
    expect(() => syncTrigger({ ...sync, table: 'p'.repeat(64) })).toThrow(InvalidIdentifierError);
    const long = renderNode(
      syncTrigger({ ...sync, server: 's'.repeat(63), table: 'p'.repeat(63), columns: ['id', 'c'.repeat(63)] }),
    );
    const created =
      [...long.up, ...long.down]
        .map(previewSql)
        .join('\n')
        .match(/(?:TABLE|FUNCTION|TRIGGER) [^\s(]+/g) ?? [];
    expect(created.length).toBeGreaterThan(5);
    for (const name of created.flatMap((statement) => statement.split(' ')[1]!.split('.')))
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(() => sqlExpression('  ')).toThrow(InvalidOptionError);
  });
});

describe('remoteSettings', () => {
  it('become libpq options for every remote session, before any given options', () => {
    const server = foreignServer({
      name: 's',
      host: 'h',
      dbname: 'd',
      remoteSettings: { lock_timeout: '2s', statement_timeout: 30000 },
      options: { options: '-c work_mem=64MB' },
    });
    expect(previewSql(renderNode(server).up[0]!)).toBe(
      `CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'h', dbname 'd', connect_timeout '10', keepalives '1', keepalives_idle '30', keepalives_interval '10', keepalives_count '3', tcp_user_timeout '60000', options '-c lock_timeout=2s -c statement_timeout=30000 -c work_mem=64MB')`,
    );
  });

  it('refuse values that would break out of the option string', () => {
    expect(() =>
      foreignServer({ name: 's', host: 'h', dbname: 'd', remoteSettings: { lock_timeout: '2s -c role=postgres' } }),
    ).toThrow(/must be a value of letters, digits/);
    expect(() => foreignServer({ name: 's', host: 'h', dbname: 'd', remoteSettings: { 'bad name': '1' } })).toThrow(
      /is not a setting name/,
    );
  });

  it('compose into a migration', () => {
    expect(buildMigration('x', syncEndpoint({ table: 't', key: ['id'], columns: ['id'] })).up).toHaveLength(5);
  });
});
