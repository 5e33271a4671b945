// The outbox sync of the outbox example, in a module of its own: the migration and the worker
// both import it, so they agree on every name.
import { syncTrigger } from 'pg-sync-link';

export const ORDER_COLUMNS = ['id', 'customer', 'total_cents'];

export const ordersToLegacy = syncTrigger({
  server: 'legacy',
  table: 'orders',
  key: ['id'],
  columns: ORDER_COLUMNS,
  delivery: 'outbox',
});
