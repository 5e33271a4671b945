import { randomBytes } from 'node:crypto';
import { quoteIdentifier } from '../../src/sql/index.js';
import { systemBindir, type BackendName } from './backends.js';
import { startEmbedded } from './embedded.js';
import { startExternal } from './external.js';
import { startLocalCluster } from './local-cluster.js';
import { withClient, type PgServer } from './server.js';
import { startContainerPair } from './testcontainers.js';

/** Two separate servers: "legacy" (the remote side) and "app" (where the link is installed). */
export interface ServerPair {
  readonly backend: BackendName;
  readonly legacy: PgServer;
  readonly app: PgServer;
  /** A new, empty database on each server, named for the test. */
  freshDatabases(prefix: string): Promise<{ legacy: string; app: string }>;
  dispose(): Promise<void>;
}

/** The backend this test project runs on (`name`, default PG_SYNC_LINK_BACKEND, else embedded). */
export function backendFromEnv(name: string = process.env.PG_SYNC_LINK_BACKEND ?? 'embedded'): BackendName {
  if (!['embedded', 'system', 'external', 'testcontainers'].includes(name)) {
    throw new Error(`PG_SYNC_LINK_BACKEND must be embedded, system, external or testcontainers, got ${name}.`);
  }
  return name as BackendName;
}

async function startServer(
  backend: BackendName,
  role: 'legacy' | 'app',
  settings: readonly string[],
  onLog?: (text: string) => void,
): Promise<PgServer> {
  switch (backend) {
    case 'embedded':
      return startEmbedded(role, settings, onLog);
    case 'system': {
      const bindir = systemBindir();
      if (!bindir) throw new Error('The system backend needs pg_config on PATH or PG_SYSTEM_BINDIR.');
      return startLocalCluster(bindir, `system ${role}`, settings, onLog);
    }
    case 'external':
      return startExternal(role);
    case 'testcontainers':
      throw new Error('Containers start as a pair: see startPair.');
  }
}

export interface PairOptions {
  /**
   * Extra `name=value` server settings, e.g. `wal_level=logical` for logical replication.
   * Only servers this harness starts take them (embedded, system, testcontainers); external
   * servers are used as they are.
   */
  readonly settings?: readonly string[];
  /** Receives each server's log output as it comes (servers this harness starts only). Default: none. */
  readonly onLog?: (role: 'legacy' | 'app', text: string) => void;
  /**
   * The pair is shared and never stopped: containers may then keep their data in memory
   * (embedded and system servers do wherever the data folder allows). Default false.
   */
  readonly neverStopped?: boolean;
}

/** Starts the pair for the backend this test project runs on (PG_SYNC_LINK_BACKEND). */
export async function startPair(
  backend: BackendName = backendFromEnv(),
  options: PairOptions = {},
): Promise<ServerPair> {
  const settings = options.settings ?? [];
  const logTo = (role: 'legacy' | 'app') => (options.onLog ? (text: string) => options.onLog!(role, text) : undefined);
  const [legacy, app] =
    backend === 'testcontainers'
      ? await startContainerPair(settings, options.neverStopped ?? false)
      : await Promise.all([
          startServer(backend, 'legacy', settings, logTo('legacy')),
          startServer(backend, 'app', settings, logTo('app')),
        ]);
  const created: Array<{ server: PgServer; database: string }> = [];
  return {
    backend,
    legacy,
    app,
    async freshDatabases(prefix) {
      const suffix = randomBytes(4).toString('hex');
      const names = { legacy: `${prefix}_legacy_${suffix}`, app: `${prefix}_app_${suffix}` };
      for (const [server, database] of [
        [legacy, names.legacy],
        [app, names.app],
      ] as const) {
        // FILE_COPY (PG 15+) makes a small database much faster than the default WAL_LOG.
        const strategy = server.major >= 15 ? ' STRATEGY = FILE_COPY' : '';
        await withClient(server, 'postgres', (client) =>
          client.query(`CREATE DATABASE ${quoteIdentifier(database)}${strategy}`),
        );
        created.push({ server, database });
      }
      return names;
    },
    async dispose() {
      if (backend === 'external') {
        for (const { server, database } of created.toReversed()) {
          await withClient(server, 'postgres', (client) =>
            client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`),
          );
        }
      }
      await Promise.all([legacy.dispose(), app.dispose()]);
    },
  };
}
