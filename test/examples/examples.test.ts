import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

// Every example runs as a user would run it (node examples/<name>.mjs, on the built package),
// so an example that rots fails the suite.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function run(example: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('node', [`examples/${example}`], { cwd: ROOT }, (error, stdout, stderr) =>
      error ? reject(new Error(`${example} failed: ${stderr}${stdout}`)) : resolve(stdout),
    );
  });
}

it('kysely.mjs installs a link with Kysely, reads through it, and migrates down', async () => {
  const output = await run('kysely.mjs');
  expect(output).toContain('kysely Up crm/001-link-legacy: Success');
  expect(output).toContain('customers read through the link: ada@example.com, grace@example.com');
  expect(output).toContain('migrated down: 2 migrations');
}, 120_000);

it('umzug.mjs syncs orders one way with Umzug and a pg Pool', async () => {
  const output = await run('umzug.mjs');
  expect(output).toMatch(/app: orders\/001-link-legacy, orders\/002-sync-public\.orders-to-legacy/);
  expect(output).toContain('legacy.orders: 1 ada 1300; 2 grace 990');
  expect(output).toContain("app's migration log holds 2 entries");
  expect(output).toContain('both sides migrated down');
}, 120_000);

it('normalised-rewrite.mjs writes the normalised rows into the old table at commit, following option changes', async () => {
  const output = await run('normalised-rewrite.mjs');
  expect(output).toContain(
    'timesheet_old: {"id":"1","worker_id":"33","hospital_id":"15","status":"approved","is_approved":true}',
  );
  expect(output).toContain(
    'timesheet_old: {"id":"2","worker_id":"34","hospital_id":"15","status":"submitted","is_approved":false}',
  );
  expect(output).toContain('after the options change: 1 -> 16; 2 -> 16');
  expect(output).toContain('removed: 2 steps');
}, 120_000);

it('outbox.mjs takes orders while legacy is down; the worker delivers them and stops on SIGTERM', async () => {
  const output = await run('outbox.mjs');
  expect(output).toContain('legacy is down; app took the orders. pending: 4');
  expect(output).toContain(
    'the worker cannot deliver yet: pg-sync-link: could not deliver the outbox of public.orders to public.orders on server legacy: could not connect to server "legacy"',
  );
  expect(output).toContain('legacy is back; legacy.orders: 1 ada 1250; 2 grace 990; 3 alan 450');
  expect(output).toContain('worker exit code after SIGTERM: 0');
  expect(output).toContain('worker: stopped cleanly');
  expect(output).toContain('removed both sides');
}, 120_000);

it('change-feed.mjs keeps salesforce.accounts from portal.users changes, across a disconnect', async () => {
  const output = await run('change-feed.mjs');
  expect(output).toContain('changes received: insert 1; insert 2; update 1 (email); delete 2; insert 3');
  expect(output).toContain('salesforce.accounts: 1 ada@lovelace.example Ada Lovelace; 3 grace@example.com Grace');
  expect(output).toContain('feed removed');
}, 120_000);

it('row-filter.mjs keeps accounts without a user out of portal.users, then sends and deletes them', async () => {
  const output = await run('row-filter.mjs');
  expect(output).toContain('two accounts, one with a user; portal.users: 7 ada@example.com');
  expect(output).toContain('grace gets a user; portal.users: 7 ada@example.com; 8 grace@example.com');
  expect(output).toContain("ada's user is cleared; portal.users: 8 grace@example.com");
  expect(output).toContain('removed both sides');
}, 120_000);

it('two-way-outbox.mjs settles a key both sides changed by updated_at, on both sides, and logs it', async () => {
  const output = await run('two-way-outbox.mjs');
  expect(output).toContain('legacy is down: 0 delivered');
  expect(output).toContain('drained: app 1, legacy 1');
  expect(output).toContain('app.orders: 1 shipped');
  expect(output).toContain('legacy.orders: 1 shipped');
  expect(output).toContain('conflict on {"id":1}: legacy won (latest updated_at, ties to legacy)');
  expect(output).toContain('removed both sides');
}, 120_000);

it('status-and-metrics.mjs shows pending changes on the status screen, then the drain in /metrics', async () => {
  const output = await run('status-and-metrics.mjs');
  expect(output).toContain('  legacy  yes        database legacy at 127.0.0.1:<port>');
  expect(output).toContain('  public.orders  legacy     outbox  yes      -');
  expect(output).toMatch(/^ {2}public\.orders to server legacy +3 +age +- +0 +0 +-$/m);
  expect(output).toContain('All ok (exit code 0).');
  expect(output).toContain('pg_sync_link_outbox_pending{sync="public.orders to server legacy"} 0');
  expect(output).toContain('pg_sync_link_outbox_delivered_total{sync="public.orders to server legacy"} 3');
  expect(output).toContain('legacy.orders: 1 ada; 2 grace; 3 alan');
  expect(output).toContain('after stop, /metrics: closed');
  expect(output).toContain('removed both sides');
}, 120_000);
