import { spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, serverProcessIds, THROWAWAY_SETTINGS } from '../../src/testing/embedded.js';
import { testDataDirectory } from './data-directory.js';
import { serverMajor, type PgServer } from './server.js';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function run(command: string, args: string[], ids: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...ids, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${stderr}`)),
    );
  });
}

/**
 * A PostgreSQL cluster made with the initdb and postgres binaries of `bindir` (the system's,
 * from `pg_config --bindir`), listening on a free loopback port, owned by this process.
 * `onLog` receives the server's log output as it comes (it is also kept for `log()`).
 */
export async function startLocalCluster(
  bindir: string,
  label: string,
  extraSettings: readonly string[] = [],
  onLog?: (text: string) => void,
): Promise<PgServer> {
  const ids = serverProcessIds();
  const root = await mkdtemp(path.join(testDataDirectory(), 'pg-sync-link-cluster-'));
  const dataDir = path.join(root, 'data');
  const passwordFile = path.join(root, 'password');
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  await writeFile(passwordFile, `${password}\n`);
  if (ids) {
    await chown(root, ids.uid, ids.gid);
    await chown(passwordFile, ids.uid, ids.gid);
  }
  await run(
    path.join(bindir, 'initdb'),
    [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=scram-sha-256',
      `--pwfile=${passwordFile}`,
      '--no-locale',
      '-E',
      'UTF8',
      '--no-sync',
    ],
    ids,
  );
  const port = await freePort();
  let child: ChildProcess | undefined;
  let log = '';

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const settings = [...THROWAWAY_SETTINGS, `unix_socket_directories=${root}`, ...extraSettings].flatMap(
        (setting) => ['-c', setting],
      );
      const server = spawn(path.join(bindir, 'postgres'), ['-D', dataDir, '-p', String(port), ...settings], {
        ...ids,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let startup = '';
      server.stderr.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        startup += chunk.toString();
        onLog?.(chunk.toString());
        if (startup.includes('ready to accept connections')) resolve();
      });
      server.on('exit', (code) => {
        running.delete(server);
        reject(new Error(`${label} exited (${code}) before it was ready: ${startup}`));
      });
      running.add(server);
      child = server;
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      const server = child;
      child = undefined;
      if (!server || server.exitCode !== null) return resolve();
      server.once('exit', () => resolve());
      server.kill('SIGINT'); // fast shutdown: roll back open transactions, close connections
    });

  await start();
  const connection = { host: '127.0.0.1', port, user: 'postgres', password };
  const major = await serverMajor(connection);
  return {
    label: `pg${major} ${label}`,
    major,
    ...connection,
    peerHost: '127.0.0.1',
    peerPort: port,
    canRestart: true,
    log: () => log,
    stop,
    start,
    dispose: async () => {
      await stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
