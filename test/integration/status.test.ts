import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  changeFeed,
  feedLag,
  listenToChanges,
  status,
  syncEndpoint,
  syncTrigger,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { installHealthy } from '../harness/doctor-setup.js';
import { linkTo } from '../harness/links.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// status() and `npx pg-sync-link status` on two real servers: links, syncs of each mode, an
// outbox, a change feed's consumer; healthy, then broken in the ways an operator must see.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let pair: ServerPair;
let app: pg.Client;
let legacy: pg.Client;
let appUrl: string;

const ITEMS = 'CREATE TABLE items (id bigint PRIMARY KEY, label text)';
const feed = () => changeFeed({ table: 'users', key: ['id'] });

useServers('status', async (servers) => {
  ({ pair, app, legacy } = servers);
  appUrl = connectionString(pair.app, servers.names.app);
  await installHealthy(legacy, app, pair.legacy, servers.names.legacy);
  await legacy.query(ITEMS);
  await app.query(ITEMS);
  await app.query('CREATE TABLE users (id bigint PRIMARY KEY, email text)');
  await applyInTransaction(
    legacy,
    buildMigration('items endpoint', syncEndpoint({ table: 'items', key: ['id'], columns: ['id', 'label'] })),
    'up',
  );
  linkTo(pair.legacy, servers.names.legacy, 'DOCTOR_LEGACY_PASSWORD');
  await applyInTransaction(
    app,
    buildMigration(
      'items outbox and users feed',
      syncTrigger({ server: 'legacy', table: 'items', key: ['id'], columns: ['id', 'label'], delivery: 'outbox' }),
      feed(),
    ),
    'up',
  );
});

async function until(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition.');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A named consumer 'crm' that received everything, then stopped. */
async function consumerThatStopped(): Promise<void> {
  const listener = listenToChanges({
    connection: appUrl,
    feed: feed(),
    consumer: 'crm',
    from: 'beginning',
    checkpointIntervalMs: 50,
    onChange: () => undefined,
  });
  try {
    await until(async () => (await feedLag(app, feed())).some((lag) => lag.consumer === 'crm' && lag.pending === 0));
  } finally {
    await listener.stop();
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'node',
      [path.join(ROOT, 'dist/cli.js'), 'status', ...args],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: undefined, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe('status', () => {
  it('shows links, syncs of each mode, the outbox and the feed consumer, changing nothing', async () => {
    await consumerThatStopped();
    await app.query(`INSERT INTO users VALUES (1, 'a'), (2, 'b')`);
    await app.query(`INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')`);
    const before = await catalogSnapshot(app);
    const first = await status(appUrl);
    expect(await catalogSnapshot(app)).toEqual(before);
    expect(first.links).toEqual([
      expect.objectContaining({
        server: 'legacy',
        reachable: true,
        error: null,
        target: expect.stringMatching(/^database /),
      }),
    ]);
    expect(first.syncs).toEqual([
      { table: 'public.items', server: 'legacy', mode: 'outbox', enabled: true, lastError: null },
      { table: 'public.notes', server: 'legacy', mode: 'commit', enabled: true, lastError: null },
      { table: 'public.products', server: 'legacy', mode: 'immediate', enabled: true, lastError: null },
    ]);
    expect(first.outboxes).toEqual([
      expect.objectContaining({
        sync: 'public.items to server legacy',
        pending: 3,
        oldestPendingSeconds: expect.any(Number),
        deliveredPerSecond: null,
        deliveredTotal: 0,
        failedRows: 0,
        currentError: null,
      }),
    ]);
    expect(first.feeds).toEqual([
      {
        lagView: 'public.users__changes_lag',
        consumers: [expect.objectContaining({ consumer: 'crm', pending: 2, lagSeconds: expect.any(Number) })],
      },
    ]);
    expect(first.exitCode).toBe(0);

    await app.query('SELECT * FROM items__drain_legacy(1000)');
    const second = await status(app, { previous: first });
    expect(second.outboxes[0]).toMatchObject({ pending: 0, oldestPendingSeconds: null, deliveredTotal: 3 });
    expect(second.outboxes[0]!.deliveredPerSecond).toBeGreaterThan(0);
  });

  it('says what is wrong: a link down, the outbox failing, a disabled sync (exit code 1)', async () => {
    await app.query(`INSERT INTO items VALUES (1, 'one')`);
    await app.query('ALTER TABLE products DISABLE TRIGGER sync_to_legacy_insert');
    await app.query(`ALTER SERVER legacy OPTIONS (SET port '1')`);
    const { rows } = await app.query('SELECT error FROM items__drain_legacy(1000)');
    expect(rows[0].error).not.toBeNull();
    const broken = await status(app);
    expect(broken.links[0]).toMatchObject({ reachable: false, error: expect.stringContaining('Cannot reach') });
    expect(broken.syncs.find((sync) => sync.table === 'public.products')).toMatchObject({ enabled: false });
    expect(broken.syncs.find((sync) => sync.table === 'public.items')).toMatchObject({
      lastError: expect.stringContaining('public.items'),
    });
    expect(broken.outboxes[0]).toMatchObject({ pending: 1, consecutiveFailures: 1 });
    expect(broken.exitCode).toBe(1);
    expect(broken.worst).toBe('error');
    expect(broken.findings.map((item) => item.check)).toEqual(
      expect.arrayContaining(['server-reachable', 'sync-trigger', 'outbox']),
    );
    expect(JSON.stringify(broken)).not.toContain(pair.legacy.password);
  });

  it('npx pg-sync-link status prints one screen, --json, and --watch blocks on a pipe', async () => {
    const screen = await cli(['--url-env', 'APP_URL'], { APP_URL: appUrl });
    expect(screen.stderr).toBe('');
    expect(screen.code).toBe(0);
    expect(screen.stdout).toMatch(/^pg-sync-link status: \S+ \(\$APP_URL\) \(PostgreSQL \d+/);
    expect(screen.stdout).toMatch(/\nLinks \(1\)\n {2}server +reachable +target\n {2}legacy +yes +database /);
    expect(screen.stdout).toMatch(/\n {2}public\.items +legacy +outbox +yes +-\n/);
    expect(screen.stdout).toContain('\nOutboxes (1)\n');
    expect(screen.stdout).toMatch(/\nAll ok \(exit code 0\)\.\n$/);

    const json = await cli(['--url-env', 'APP_URL', '--json'], { APP_URL: appUrl });
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ exitCode: 0, databases: [{ source: '$APP_URL', links: [{ reachable: true }] }] });

    const watched = await cli(['--url-env', 'APP_URL', '--watch', '--interval', '0.05', '--count', '3'], {
      APP_URL: appUrl,
    });
    expect(watched.code).toBe(0);
    expect(watched.stdout.match(/^pg-sync-link status: /gm)).toHaveLength(3);
    expect(watched.stdout).not.toContain('\u001b[');
    const lines = await cli(['--url-env', 'APP_URL', '--watch', '--json', '--interval', '0.05', '--count', '2'], {
      APP_URL: appUrl,
    });
    expect(
      lines.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).exitCode),
    ).toEqual([0, 0]);

    await app.query('ALTER TABLE products DISABLE TRIGGER sync_to_legacy_insert');
    const findings = await cli(['--url-env', 'APP_URL'], { APP_URL: appUrl });
    expect(findings.code).toBe(1);
    expect(findings.stdout).toMatch(/\nNeeds attention\n {2}ERROR +\[sync-trigger\] sync of public\.products/);
  });

  it('--watch ends cleanly on Ctrl-C, and a database it cannot reach exits 3 without its password', async () => {
    const child = spawn('node', [path.join(ROOT, 'dist/cli.js'), 'status', '--watch', '--interval', '600'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: appUrl },
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += String(chunk);
      if (stdout.includes('(exit code')) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exit) => resolve(exit)));
    expect(code).toBe(0);
    expect(stdout.match(/^pg-sync-link status: /gm)).toHaveLength(1);

    const url = new URL(appUrl);
    url.port = '1';
    const down = await cli(['--timeout', '5'], { DATABASE_URL: url.toString() });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/^pg-sync-link status: could not read \$DATABASE_URL: /);
    expect(down.stderr + down.stdout).not.toContain(pair.app.password);
  });
});
