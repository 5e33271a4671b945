import { describe, expect, it } from 'vitest';
import { changeFeed, InvalidOptionError, previewSql, sqlExpression, syncTrigger, tablePair } from '../../src/index.js';
import { renderNode } from '../../src/kinds/index.js';

const remoteSync = { server: 'portal', table: 'accounts', key: ['id'], columns: ['id', 'name'] };
const localSync = { table: 'accounts', target: 'users', key: ['id'], columns: ['id', 'name'] };

function refusal(build: () => unknown): InvalidOptionError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error('not refused');
}

describe('row filters (where)', () => {
  it('must be a sqlExpression, and the error names the sync', () => {
    const error = refusal(() => syncTrigger({ ...remoteSync, where: 'src.id > 0' as never }));
    expect(error.message).toMatch(/sync of "accounts" to server "portal"\.where must be made with sqlExpression/);
    expect(error.path).toBe('sync of "accounts" to server "portal".where');
    expect(refusal(() => syncTrigger({ ...localSync, where: { text: 'true' } as never })).message).toMatch(
      /sync of "accounts" to "public.users"\.where/,
    );
    expect(refusal(() => changeFeed({ table: 'accounts', key: ['id'], where: 1 as never })).message).toMatch(
      /change feed of "accounts"\.where/,
    );
    expect(
      refusal(() => tablePair({ table: 'accounts', key: ['id'], columns: ['id'], where: 'x' as never })).message,
    ).toMatch(/where must be made with sqlExpression/);
  });

  it('sees the row as src: OLD. and NEW. are refused, words in quotes are not', () => {
    expect(
      refusal(() => syncTrigger({ ...remoteSync, where: sqlExpression('NEW.user_id IS NOT NULL') })).message,
    ).toMatch(/reads NEW\.: a filter sees one version of the row as src/);
    expect(refusal(() => syncTrigger({ ...remoteSync, where: sqlExpression('old . id > 1') })).message).toMatch(
      /reads old/,
    );
    expect(
      syncTrigger({ ...remoteSync, where: sqlExpression(`src.note <> 'new.x' AND src."old.y" > 0`) }).where?.text,
    ).toBe(`src.note <> 'new.x' AND src."old.y" > 0`);
  });

  it('refuses subqueries: another table changing would not send or delete rows', () => {
    expect(
      refusal(() =>
        syncTrigger({
          ...remoteSync,
          where: sqlExpression('EXISTS (SELECT 1 FROM public.users u WHERE u.id = src.id)'),
        }),
      ).message,
    ).toMatch(/contains a subquery: a filter may read only the changed row src/);
    expect(syncTrigger({ ...remoteSync, where: sqlExpression(`src.kind = 'select'`) }).where).toBeDefined();
  });

  it('checks the filter at migration time before anything is created, and filters each statement', () => {
    const node = syncTrigger({ ...remoteSync, where: sqlExpression('src.user_id IS NOT NULL') });
    const up = renderNode(node).up.map(previewSql);
    const [first, second] = up;
    expect(first).toContain('pg_catalog.pg_typeof((src.user_id IS NOT NULL))::text INTO filter_type');
    expect(first).toContain('its where filter is of type %s, not boolean');
    expect(second).toContain('CREATE FOREIGN TABLE');
    const sql = up.join('\n');
    expect(sql).toContain("EXECUTE FUNCTION public.accounts__sync_to_portal('filtered_update')");
    expect(sql).not.toContain("('moved')");
    expect(sql).toContain('FROM pg_sync_new AS src WHERE (src.user_id IS NOT NULL)');
  });
});
