import { describe, expect, it } from 'vitest';
import { idObject, idObjectName, idStem, idStemOf } from '../../src/kinds/ids/ids-names.js';
import {
  ENDPOINT_VIEW_PATTERN,
  endpointViews,
  parseEndpointView,
  senderObjects,
  senderServerOf,
  SENDER_TRIGGER_EVENTS,
  senderTableName,
} from '../../src/kinds/sync/sync-names.js';

// The doctor finds installed objects by the names each family derives; every derived name must
// read back to what it was derived from.

describe('sync names', () => {
  const table = { schema: 'shop', name: 'order_lines' };

  it('reads the server back from a sender function and each of its triggers', () => {
    for (const server of ['legacy', 'sales_force_eu', 'a__b']) {
      const objects = senderObjects(table, server);
      for (const event of SENDER_TRIGGER_EVENTS)
        expect(senderServerOf(table.name, objects.function.name, objects.trigger(event))).toBe(server);
      expect(objects.upsertTable.name).toBe(senderTableName(table.name, server, 'upsert'));
      expect(objects.deleteTable.name).toBe(senderTableName(table.name, server, 'delete'));
    }
  });

  it('reads no server from names it does not derive', () => {
    expect(senderServerOf('order_lines', 'order_lines__sync_to_legacy', 'audit_insert')).toBeUndefined();
    expect(senderServerOf('order_lines', 'orders__sync_to_legacy', 'sync_to_legacy_insert')).toBeUndefined();
    expect(senderServerOf('order_lines', 'order_lines__sync_to_legacy', 'sync_to_other_insert')).toBeUndefined();
  });

  it('reads the table and rule back from both endpoint views, which the catalog pattern matches', () => {
    const views = endpointViews(table, ['id'], ['id', 'qty', 'sku']);
    expect(parseEndpointView(views.upsert.name)).toEqual({ table: 'order_lines', rule: 'sync_upsert' });
    expect(parseEndpointView(views.delete.name)).toEqual({ table: 'order_lines', rule: 'sync_delete' });
    const pattern = new RegExp(ENDPOINT_VIEW_PATTERN);
    expect(pattern.test(views.upsert.name) && pattern.test(views.delete.name)).toBe(true);
    expect(pattern.test('order_lines__sync_upsert')).toBe(false);
    expect(parseEndpointView('order_lines__sync_upsert_xyz')).toBeUndefined();
  });
});

describe('shared id names', () => {
  it('reads the stem back from every object of a column', () => {
    const table = { schema: 'public', name: 'orders' };
    for (const object of ['next', 'nextval', 'blocks', 'block', 'next_id', 'source', 'cache', 'current'] as const) {
      const derived = idObject(table, 'id', object);
      expect(derived).toEqual({ schema: 'public', name: idObjectName(idStem('orders', 'id'), object) });
      expect(idStemOf(derived.name, object)).toBe('orders__id');
    }
  });

  it('reads no stem from a name of another object', () => {
    expect(idStemOf('orders__id_source', 'next_id')).toBeUndefined();
    expect(idStemOf('_next_id', 'next_id')).toBeUndefined();
  });
});
