import { describe, expect, it } from 'vitest';
import { outboxNames, previewSql, syncTrigger } from '../../src/index.js';
import { renderNode } from '../../src/kinds/index.js';

describe('names in messages', () => {
  it('a table name with a dot is quoted, never read as a schema', () => {
    const node = syncTrigger({
      server: 'Legacy',
      table: 'public.timesheet',
      key: ['id'],
      columns: ['id'],
      delivery: 'outbox',
    });
    expect(outboxNames(node).label).toBe('public."public.timesheet" to server "Legacy"');
    const text = renderNode(node).up.map(previewSql).join('\n');
    expect(text).toContain(`'public."public.timesheet" to public."public.timesheet" on server "Legacy"'`);
    expect(text).not.toContain('public.public.timesheet');
  });
});
