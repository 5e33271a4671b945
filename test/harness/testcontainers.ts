import { startContainerServers } from '../../src/testing/index.js';
import type { PgServer } from './server.js';

/** Both servers of a pair as containers on one network (image from PG_TEST_IMAGE, default postgres:17). */
export async function startContainerPair(): Promise<[PgServer, PgServer]> {
  const [legacy, app] = await startContainerServers({ names: ['legacy', 'app'], image: process.env.PG_TEST_IMAGE });
  const wrap = (server: NonNullable<typeof legacy>): PgServer => ({ ...server, label: `pg${server.major} container ${server.name}`, canRestart: false });
  return [wrap(legacy!), wrap(app!)];
}
