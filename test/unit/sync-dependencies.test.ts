import { describe, expect, it } from 'vitest';
import { InvalidIdentifierError, InvalidOptionError, previewSql, sqlExpression, syncTrigger } from '../../src/index.js';
import { renderNode } from '../../src/kinds/index.js';
import { dependencyObjects } from '../../src/kinds/sync/dependencies/dependency-names.js';

const HOSPITAL = sqlExpression(
  '(SELECT o.hospital_id FROM public.timesheet_options AS o WHERE o.id = src.timesheet_options_id)',
);
const base = {
  server: 'legacy',
  table: 'timesheet',
  key: ['id'],
  columns: ['id', 'status', { remote: 'hospital_id', expression: HOSPITAL }],
};
const rows = sqlExpression('src.timesheet_options_id = dep.id');
const withDeps = (dependsOn: unknown, extra: object = {}) =>
  // biome-ignore lint/suspicious/noExplicitAny: bad input on purpose
  syncTrigger({ ...base, ...extra, dependsOn: dependsOn as any });

describe('syncTrigger dependsOn', () => {
  it('is checked before any SQL: each mistake gets a typed error naming the sync and the fix', () => {
    const cases: [unknown, object, RegExp][] = [
      ['timesheet_options', {}, /sync of "timesheet" to server "legacy"\.dependsOn must be an array/],
      [[{ rows }], {}, /needs table: the local table the expressions read/],
      [
        [{ table: 'timesheet_options' }],
        {},
        /table "public\.timesheet_options" needs rows, made with sqlExpression\(\)/,
      ],
      [[{ table: 'timesheet_options', rows: 'src.a = dep.id' }], {}, /needs rows, made with sqlExpression/],
      [
        [{ table: 'timesheet_options', rows: sqlExpression('src.timesheet_options_id = o.id') }],
        {},
        /rows \("src\.timesheet_options_id = o\.id"\) never reads dep\.<column>/,
      ],
      [[{ table: 'timesheet_options', rows: sqlExpression(`'src.x' = dep.id`) }], {}, /never reads src\.<column>/],
      [
        [{ table: 'timesheet_options', rows, onDelete: 'cascade' }],
        {},
        /onDelete must be 'resend' or 'restrict', got "cascade"/,
      ],
      [
        [{ table: 'timesheet_options', rows, on_delete: 'restrict' }],
        {},
        /Unknown option "on_delete".*Did you mean "onDelete"/,
      ],
      [[{ table: 'timesheet', rows }], {}, /is the synced table itself/],
      [
        [
          { table: 'timesheet_options', rows },
          { table: 'timesheet_options', rows },
        ],
        {},
        /"public\.timesheet_options" is named twice/,
      ],
      [
        [
          { table: 'timesheet_options', rows },
          { table: { schema: 'other', name: 'timesheet_options' }, rows },
        ],
        {},
        /another dependency is named "timesheet_options" too \(schema "public"\)/,
      ],
      [
        [{ table: 'timesheet_options', rows }],
        { columns: ['id', 'status'] },
        /no column of this sync is an expression/,
      ],
      [[{ table: 'timesheet_options', rows }], { operations: ['insert', 'delete'] }, /this sync does not send updates/],
    ];
    for (const [dependsOn, extra, message] of cases) {
      expect(() => withDeps(dependsOn, extra), String(message)).toThrow(InvalidOptionError);
      expect(() => withDeps(dependsOn, extra), String(message)).toThrow(message);
    }
    expect(() => withDeps([{ table: '', rows }])).toThrow(InvalidIdentifierError);
    expect(() => withDeps([{ table: 'x'.repeat(64), rows }])).toThrow(InvalidIdentifierError);
  });

  it('an empty or absent dependsOn changes nothing', () => {
    const plain = renderNode(syncTrigger(base));
    expect(renderNode(withDeps([]))).toEqual(plain);
    expect('dependsOn' in syncTrigger(base)).toBe(false);
  });

  it('puts statement triggers on the dependency table that send the rows reading a changed row', () => {
    const node = withDeps([{ table: 'timesheet_options', rows }]);
    const { up, down } = renderNode(node);
    const text = up.map(previewSql);
    const triggers = text.filter((statement) => statement.includes('ON public.timesheet_options'));
    expect(triggers.filter((statement) => statement.startsWith('CREATE TRIGGER'))).toEqual([
      "CREATE TRIGGER timesheet__sync_to_legacy_dep_truncate BEFORE TRUNCATE ON public.timesheet_options FOR EACH STATEMENT EXECUTE FUNCTION public.timesheet__sync_to_legacy_dep_timesheet_options('truncate')",
      "CREATE TRIGGER timesheet__sync_to_legacy_dep_insert AFTER INSERT ON public.timesheet_options REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION public.timesheet__sync_to_legacy_dep_timesheet_options('new')",
      "CREATE TRIGGER timesheet__sync_to_legacy_dep_update AFTER UPDATE ON public.timesheet_options REFERENCING OLD TABLE AS pg_sync_old NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION public.timesheet__sync_to_legacy_dep_timesheet_options('both')",
      "CREATE TRIGGER timesheet__sync_to_legacy_dep_delete AFTER DELETE ON public.timesheet_options REFERENCING OLD TABLE AS pg_sync_old FOR EACH STATEMENT EXECUTE FUNCTION public.timesheet__sync_to_legacy_dep_timesheet_options('old')",
    ]);
    const fn = text.find((statement) => statement.startsWith('CREATE FUNCTION public.timesheet__sync_to_legacy_dep_'));
    expect(fn).toContain(
      'WHERE EXISTS (SELECT 1 FROM pg_sync_old AS dep WHERE (src.timesheet_options_id = dep.id)) OR EXISTS (SELECT 1 FROM pg_sync_new AS dep WHERE (src.timesheet_options_id = dep.id))',
    );
    // Down drops the dependency's objects first, before the sync's own.
    expect(previewSql(down[0]!)).toBe('DROP TRIGGER timesheet__sync_to_legacy_dep_delete ON public.timesheet_options');
    expect(down.map(previewSql)).toContain('DROP FUNCTION public.timesheet__sync_to_legacy_dep_timesheet_options()');
  });

  it('commit timing adds a deferred trigger on the dependency that flushes the sync', () => {
    const { up } = renderNode(withDeps([{ table: 'timesheet_options', rows }], { timing: 'commit' }));
    expect(up.map(previewSql)).toContain(
      "CREATE CONSTRAINT TRIGGER timesheet__sync_to_legacy_dep_commit AFTER INSERT OR UPDATE OR DELETE ON public.timesheet_options DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.timesheet__sync_to_legacy('flush')",
    );
  });

  it('long names are shortened the same way everywhere, and stay distinct', () => {
    const table = { schema: 'public', name: 't'.repeat(40) };
    const first = dependencyObjects(table, 's'.repeat(30), { schema: 'public', name: `${'o'.repeat(50)}_a` });
    const second = dependencyObjects(table, 's'.repeat(30), { schema: 'public', name: `${'o'.repeat(50)}_b` });
    for (const objects of [first, second]) {
      expect(Buffer.byteLength(objects.function.name)).toBeLessThanOrEqual(63);
      expect(Buffer.byteLength(objects.trigger('truncate'))).toBeLessThanOrEqual(63);
    }
    expect(first.function.name).not.toBe(second.function.name);
    expect(() =>
      syncTrigger({ ...base, table: table.name, dependsOn: [{ table: 'o'.repeat(60), rows }] }),
    ).not.toThrow();
  });
});
