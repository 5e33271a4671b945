import { describe, expect, it } from 'vitest';
import { changeFeed, previewSql, syncTrigger } from '../../src/index.js';
import { renderNode } from '../../src/kinds/index.js';

describe('outbox delivery SQL', () => {
  const node = syncTrigger({
    server: 'legacy',
    table: { schema: 'shop', name: 'products' },
    key: ['id'],
    columns: ['id', { remote: 'title', local: 'name' }],
    delivery: 'outbox',
  });
  const { up, down } = renderNode(node);
  const text = up.map(previewSql);

  it('creates the outbox from the key columns, a status row, a lag view, the recorder, the drain and three triggers', () => {
    expect(text.slice(1, 5)).toEqual([
      'CREATE TABLE shop.products__outbox_legacy AS SELECT ARRAY[id] AS id FROM shop.products WITH NO DATA',
      `ALTER TABLE shop.products__outbox_legacy
  ALTER COLUMN id SET STORAGE EXTERNAL,
  ADD COLUMN pg_sync_seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ADD COLUMN pg_sync_recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  ADD COLUMN pg_sync_attempts integer NOT NULL DEFAULT 0`,
      expect.stringMatching(/^CREATE TABLE shop\.products__outbox_legacy_status \(/),
      'INSERT INTO shop.products__outbox_legacy_status DEFAULT VALUES',
    ]);
    // Keys the other side keeps rejecting are set aside here, with SQL to retry or discard them.
    expect(text.slice(5, 9)).toEqual([
      'CREATE TABLE shop.products__outbox_legacy_failed AS SELECT id FROM shop.products WITH NO DATA',
      expect.stringMatching(
        /^ALTER TABLE shop\.products__outbox_legacy_failed\n {2}ADD COLUMN pg_sync_attempts integer NOT NULL,/,
      ),
      expect.stringMatching(
        /^CREATE FUNCTION shop\.products__retry_legacy\(only_keys jsonb DEFAULT NULL\) RETURNS integer/,
      ),
      expect.stringMatching(
        /^CREATE FUNCTION shop\.products__discard_legacy\(only_keys jsonb DEFAULT NULL\) RETURNS integer/,
      ),
    ]);
    expect(text[9]).toMatch(
      /^CREATE VIEW shop\.products__outbox_legacy_lag AS[\s\S]*'sync_outbox_[0-9a-f]{8}'::text AS channel,[\s\S]*AS current_error,[\s\S]*AS set_aside,[\s\S]*AS held/,
    );
    expect(text[10]).toMatch(
      /^CREATE FUNCTION shop\.products__sync_to_legacy\(\) RETURNS trigger[\s\S]*PERFORM pg_catalog\.pg_notify\('sync_outbox_[0-9a-f]{8}', ''\)/,
    );
    expect(text[11]).toContain(
      'CREATE FUNCTION shop.products__drain_legacy(max_changes integer DEFAULT 1000, max_attempts integer DEFAULT 5, OUT delivered integer, OUT set_aside integer, OUT error text)',
    );
    // The drain sends the rows as they are now, renamed as the sync says, and deletes what is gone.
    expect(text[11]).toContain(
      'INSERT INTO shop.products__sync_to_legacy_upsert (id, title)\n      SELECT src.id, src.name FROM shop.products AS src',
    );
    expect(text[11]).toContain(
      'AS src(id)\n      WHERE (SELECT 1 FROM shop.products AS t WHERE t.id = src.id LIMIT 1) IS NULL',
    );
    expect(text.slice(12)).toEqual([
      `CREATE TRIGGER sync_to_legacy_truncate BEFORE TRUNCATE ON shop.products FOR EACH STATEMENT EXECUTE FUNCTION shop.products__sync_to_legacy('truncate')`,
      'ALTER TABLE shop.products ENABLE ALWAYS TRIGGER sync_to_legacy_truncate',
      `CREATE TRIGGER sync_to_legacy_insert AFTER INSERT ON shop.products REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION shop.products__sync_to_legacy('new')`,
      'ALTER TABLE shop.products ENABLE ALWAYS TRIGGER sync_to_legacy_insert',
      `CREATE TRIGGER sync_to_legacy_update AFTER UPDATE ON shop.products REFERENCING OLD TABLE AS pg_sync_old NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION shop.products__sync_to_legacy('both')`,
      'ALTER TABLE shop.products ENABLE ALWAYS TRIGGER sync_to_legacy_update',
      `CREATE TRIGGER sync_to_legacy_delete AFTER DELETE ON shop.products REFERENCING OLD TABLE AS pg_sync_old FOR EACH STATEMENT EXECUTE FUNCTION shop.products__sync_to_legacy('old')`,
      'ALTER TABLE shop.products ENABLE ALWAYS TRIGGER sync_to_legacy_delete',
    ]);
  });

  it('down refuses to drop undelivered changes, then removes everything in reverse', () => {
    const downText = down.map(previewSql);
    expect(downText[0]).toMatch(/^DO \$pgsl\$[\s\S]*holds %s set-aside keys[\s\S]*still holds %s undelivered changes/);
    expect(downText.slice(1)).toEqual([
      'DROP TRIGGER sync_to_legacy_delete ON shop.products',
      'DROP TRIGGER sync_to_legacy_update ON shop.products',
      'DROP TRIGGER sync_to_legacy_insert ON shop.products',
      'DROP TRIGGER sync_to_legacy_truncate ON shop.products',
      'DROP FUNCTION shop.products__drain_legacy(integer, integer)',
      'DROP FUNCTION shop.products__sync_to_legacy()',
      'DROP VIEW shop.products__outbox_legacy_lag',
      'DROP FUNCTION shop.products__discard_legacy(jsonb)',
      'DROP FUNCTION shop.products__retry_legacy(jsonb)',
      'DROP TABLE shop.products__outbox_legacy_failed',
      'DROP TABLE shop.products__outbox_legacy_status',
      'DROP TABLE shop.products__outbox_legacy',
      'DROP FOREIGN TABLE shop.products__sync_to_legacy_delete',
      'DROP FOREIGN TABLE shop.products__sync_to_legacy_upsert',
    ]);
  });

  it('refuses an expression key', async () => {
    const { sqlExpression } = await import('../../src/index.js');
    expect(() =>
      syncTrigger({
        server: 'legacy',
        table: 'p',
        key: ['k'],
        columns: [{ remote: 'k', expression: sqlExpression('src.a || src.b') }],
        delivery: 'outbox',
      }),
    ).toThrow(/with delivery 'outbox', key column "k" must come from a local column/);
  });
});

describe('change feed SQL', () => {
  it('logs and notifies from one row trigger; down drops what up made', () => {
    const { up, down } = renderNode(
      changeFeed({ table: 'users', key: ['id'], columns: ['id', 'email'], channel: 'user changes' }),
    );
    const text = up.map(previewSql);
    expect(text[1]).toContain(`WHERE i.indrelid = 'public.users'::pg_catalog.regclass AND i.indisunique`);
    expect(text[1]).toContain('no primary key or unique index on exactly %s (%s)');
    expect(text[2]).toMatch(
      /^CREATE TABLE public\.users__changes \(\n {2}seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n {2}xid xid8 NOT NULL DEFAULT pg_catalog\.pg_current_xact_id\(\)/,
    );
    expect(text[3]).toBe('CREATE INDEX ON public.users__changes (xid, seq)');
    expect(text[5]).toContain(`PERFORM pg_catalog.pg_notify('user changes', payload);`);
    expect(text[5]).toContain(`e.key = ANY (ARRAY['id', 'email'])`);
    expect(text[5]).toContain('IF pg_catalog.octet_length(payload) > 7900 THEN');
    expect(text.slice(6, 10)).toEqual([
      'CREATE TRIGGER change_feed AFTER INSERT OR UPDATE OR DELETE ON public.users FOR EACH ROW EXECUTE FUNCTION public.users__changes_record()',
      'ALTER TABLE public.users ENABLE ALWAYS TRIGGER change_feed',
      `CREATE TRIGGER change_feed_truncate BEFORE TRUNCATE ON public.users FOR EACH STATEMENT EXECUTE FUNCTION public.users__changes_record('truncate')`,
      'ALTER TABLE public.users ENABLE ALWAYS TRIGGER change_feed_truncate',
    ]);
    // Pruning keeps what a named consumer has not received, unless forced; a view shows each consumer's lag.
    expect(text[10]).toMatch(
      /^CREATE FUNCTION public\.users__changes_prune\(older_than interval, force boolean DEFAULT false\) RETURNS bigint[\s\S]*NOT EXISTS \(SELECT 1 FROM public\.users__changes_cursors AS c WHERE \(l\.xid, l\.seq\) > \(c\.xid, c\.seq\)\)/,
    );
    expect(text[11]).toMatch(/^CREATE VIEW public\.users__changes_lag AS\nSELECT c\.consumer,/);
    expect(down.map(previewSql)).toEqual([
      'DROP VIEW public.users__changes_lag',
      'DROP FUNCTION public.users__changes_prune(interval, boolean)',
      'DROP TRIGGER change_feed_truncate ON public.users',
      'DROP TRIGGER change_feed ON public.users',
      'DROP FUNCTION public.users__changes_record()',
      'DROP TABLE public.users__changes_cursors',
      'DROP TABLE public.users__changes',
    ]);
  });
});

describe('same-database sync SQL', () => {
  it('checks the target key and columns, then writes the target directly from statement triggers', async () => {
    const { sqlExpression } = await import('../../src/index.js');
    const node = syncTrigger({
      table: { schema: 'portal', name: 'users' },
      target: { schema: 'salesforce', name: 'accounts' },
      key: ['user_id'],
      columns: [
        { remote: 'user_id', local: 'id' },
        { remote: 'name', expression: sqlExpression('src.first || src.last') },
      ],
    });
    expect(node.kind).toBe('local-sync');
    const { up, down } = renderNode(node);
    const text = up.map(previewSql);
    expect(text[0]).toContain(`WHERE i.indrelid = 'salesforce.accounts'::pg_catalog.regclass`);
    expect(text[1]).toContain('PERFORM src.id, (src.first || src.last) FROM (SELECT (NULL::portal.users).*) AS src;');
    expect(
      text[2],
    ).toContain(`INSERT INTO salesforce.accounts AS t (user_id, name) SELECT src.id, (src.first || src.last) FROM pg_sync_new AS src
        ON CONFLICT (user_id) DO UPDATE SET name = EXCLUDED.name;`);
    expect(text[2]).toContain(`IF started_at = 'salesforce.accounts' THEN`);
    expect(text.slice(3)).toEqual([
      `CREATE TRIGGER sync_to_salesforce_accounts_truncate BEFORE TRUNCATE ON portal.users FOR EACH STATEMENT EXECUTE FUNCTION portal.users__sync_to_salesforce_accounts('truncate')`,
      'ALTER TABLE portal.users ENABLE ALWAYS TRIGGER sync_to_salesforce_accounts_truncate',
      `CREATE TRIGGER sync_to_salesforce_accounts_insert AFTER INSERT ON portal.users REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION portal.users__sync_to_salesforce_accounts('upsert')`,
      'ALTER TABLE portal.users ENABLE ALWAYS TRIGGER sync_to_salesforce_accounts_insert',
      `CREATE TRIGGER sync_to_salesforce_accounts_update AFTER UPDATE ON portal.users REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION portal.users__sync_to_salesforce_accounts('upsert')`,
      'ALTER TABLE portal.users ENABLE ALWAYS TRIGGER sync_to_salesforce_accounts_update',
      `CREATE TRIGGER sync_to_salesforce_accounts_update_key AFTER UPDATE ON portal.users REFERENCING OLD TABLE AS pg_sync_old NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION portal.users__sync_to_salesforce_accounts('vanished')`,
      'ALTER TABLE portal.users ENABLE ALWAYS TRIGGER sync_to_salesforce_accounts_update_key',
      `CREATE TRIGGER sync_to_salesforce_accounts_delete AFTER DELETE ON portal.users REFERENCING OLD TABLE AS pg_sync_old FOR EACH STATEMENT EXECUTE FUNCTION portal.users__sync_to_salesforce_accounts('delete')`,
      'ALTER TABLE portal.users ENABLE ALWAYS TRIGGER sync_to_salesforce_accounts_delete',
    ]);
    expect(down.map(previewSql)).toEqual([
      'DROP TRIGGER sync_to_salesforce_accounts_delete ON portal.users',
      'DROP TRIGGER sync_to_salesforce_accounts_update_key ON portal.users',
      'DROP TRIGGER sync_to_salesforce_accounts_update ON portal.users',
      'DROP TRIGGER sync_to_salesforce_accounts_insert ON portal.users',
      'DROP TRIGGER sync_to_salesforce_accounts_truncate ON portal.users',
      'DROP FUNCTION portal.users__sync_to_salesforce_accounts()',
    ]);
  });
});
