import { startContainerServers } from '../../src/testing/index.js';
import type { PgServer } from './server.js';

/**
 * Both servers of a pair as containers on one network (image from PG_TEST_IMAGE, default
 * postgres:17), with the pair's extra settings; each keeps its host port across stop/start.
 * With `memoryData` (a shared pair, never stopped) the data lives in a tmpfs.
 */
export async function startContainerPair(
  settings: readonly string[] = [],
  memoryData = false,
): Promise<[PgServer, PgServer]> {
  const [legacy, app] = await startContainerServers({
    names: ['legacy', 'app'],
    image: process.env.PG_TEST_IMAGE,
    settings,
    memoryData,
  });
  const wrap = (server: NonNullable<typeof legacy>): PgServer => ({
    ...server,
    label: `pg${server.major} container ${server.name}`,
    canRestart: !memoryData,
  });
  return [wrap(legacy!), wrap(app!)];
}
