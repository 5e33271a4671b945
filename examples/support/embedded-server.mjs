// A throwaway PostgreSQL server (pg-sync-link/testing) with a client connected to its database,
// for the demo, the examples and the benchmarks.
import pg from 'pg';
import { startEmbeddedServer } from 'pg-sync-link/testing';

/**
 * @typedef {Awaited<ReturnType<typeof startServer>>} Server
 */

/**
 * @param {string} name the server's database, and its name in messages
 * @param {{ durable?: boolean, settings?: string[] }} [options] durable: keep fsync on (benchmarks); settings: extra server settings
 */
export async function startServer(name, options = {}) {
  const server = await startEmbeddedServer({
    name,
    durable: options.durable ?? false,
    settings: options.settings ?? [],
  });
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  return {
    ...server,
    name,
    client,
    /** Stops the server but keeps its data: start() brings it back ("the other side is down"). */
    halt: () => server.stop(),
    async stop() {
      await client.end().catch(() => {});
      await server.dispose();
    },
  };
}
