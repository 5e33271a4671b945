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

it('seed-002-transform.mjs writes the normalised rows into the old table at commit', async () => {
  const output = await run('seed-002-transform.mjs');
  expect(output).toContain('timesheet_old: {"id":"1","worker_id":"33","hospital_id":"15","status":"approved","is_approved":true}');
  expect(output).toContain('timesheet_old: {"id":"2","worker_id":"34","hospital_id":"15","status":"submitted","is_approved":false}');
  expect(output).toContain('removed: 2 steps');
}, 120_000);
