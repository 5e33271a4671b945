import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startContainerServers } from '../../src/testing/index.js';

// memoryData: a container's data in a tmpfs (what the shared container pairs use), and the
// refusal to stop a server whose data a stop would lose.
describe.runIf(process.env.PG_SYNC_LINK_BACKEND === 'testcontainers')('containers with memoryData', () => {
  it('keep their data in the tmpfs and refuse stop(), saying why', async () => {
    const [server] = await startContainerServers({
      names: ['inmemory'],
      image: process.env.PG_TEST_IMAGE,
      memoryData: true,
    });
    try {
      const client = new pg.Client({ connectionString: server!.url });
      await client.connect();
      try {
        const { rows } = await client.query('SHOW data_directory');
        expect(rows[0].data_directory).toBe('/pg-sync-link-memory/data');
      } finally {
        await client.end();
      }
      await expect(server!.stop()).rejects.toThrow(
        'The inmemory container keeps its data in memory (memoryData): a stop would lose it, so it cannot be stopped and started again.',
      );
    } finally {
      await server!.dispose();
    }
  }, 120_000);
});
