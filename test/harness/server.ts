import pg from 'pg';
import type { TestServer } from '../../src/testing/index.js';
import { urlOf } from '../../src/testing/server.js';

/** One running PostgreSQL server the tests can connect to, and (locally) stop and start. */
export interface PgServer extends Omit<TestServer, 'name' | 'database' | 'url'> {
  /** e.g. `pg18 embedded legacy`. */
  readonly label: string;
  /** Stopping and starting are possible for servers this harness launched. */
  readonly canRestart: boolean;
}

export function connectionString(server: PgServer, database: string): string {
  return urlOf(server, database);
}

export async function connect(server: PgServer, database: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: connectionString(server, database) });
  // A test that stops a server ends its idle connections; the next query reports that, and an
  // 'error' event without a listener would crash the test process instead.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Runs `work` with a connected client and always closes it. */
export async function withClient<T>(
  server: PgServer,
  database: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = await connect(server, database);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function serverMajor(
  server: Pick<PgServer, 'host' | 'port' | 'user' | 'password'>,
  database = 'postgres',
): Promise<number> {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database,
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>(`SELECT pg_catalog.current_setting('server_version_num') AS v`);
    return Math.floor(Number(rows[0]!.v) / 10000);
  } finally {
    await client.end();
  }
}
