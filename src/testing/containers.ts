import { existsSync } from 'node:fs';
import { loadOptionalPeer } from '../optional-peer.js';
import { containerServer } from './container-server.js';
import { freePort, THROWAWAY_SETTINGS } from './embedded.js';
import type { TestServer } from './server.js';

/** Why no Docker engine can be used here, or undefined when one seems reachable. */
export function dockerUnavailableReason(): string | undefined {
  if (process.env.DOCKER_HOST) return undefined;
  if (existsSync('/var/run/docker.sock')) return undefined;
  return 'no Docker engine is reachable (no DOCKER_HOST and no /var/run/docker.sock)';
}

export interface ContainerServersOptions {
  /** Names of the servers (each also a network alias), each with a database of the same name. */
  readonly names: readonly string[];
  /**
   * A PostgreSQL image that takes POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB and runs
   * `postgres` with the command's arguments, like the official one. Default postgres:17.
   */
  readonly image?: string;
  /** Extra `name=value` server settings, e.g. `wal_level=logical`. Default none. */
  readonly settings?: readonly string[];
  /**
   * Keep each server's data in a memory file system (a tmpfs mount) instead of the container's
   * disk layer: each CREATE DATABASE gets several times faster. A tmpfs does not outlive its
   * container's run, so such a server cannot be stopped and started again (stop() rejects).
   * Default false.
   */
  readonly memoryData?: boolean;
}

/** Where a server with memoryData keeps its data: a tmpfs any user may make a folder in. */
const MEMORY_MOUNT = '/pg-sync-link-memory';

/** Durability off for speed; listen_addresses stays '*' so the other containers reach it. */
const CONTAINER_SETTINGS = THROWAWAY_SETTINGS.filter((setting) => !setting.startsWith('listen_addresses='));

/**
 * PostgreSQL containers (testcontainers and @testcontainers/postgresql, optional peer
 * dependencies) on one network, each reaching the others by its name. Each keeps one host port
 * for its life, so `stop()` then `start()` gives the same server at the same URL.
 */
export async function startContainerServers(options: ContainerServersOptions): Promise<TestServer[]> {
  const reason = dockerUnavailableReason();
  if (reason) throw new Error(`The testcontainers backend needs Docker: ${reason}.`);
  const install = 'npm install --save-dev testcontainers @testcontainers/postgresql';
  const purpose = 'The testcontainers backend of pg-sync-link/testing';
  const [{ PostgreSqlContainer }, { Network, getContainerRuntimeClient }] = await Promise.all([
    loadOptionalPeer('@testcontainers/postgresql', () => import('@testcontainers/postgresql'), purpose, install),
    loadOptionalPeer('testcontainers', () => import('testcontainers'), purpose, install),
  ]);
  const image = options.image ?? 'postgres:17';
  const settings = [...CONTAINER_SETTINGS, ...(options.settings ?? [])];
  const network = await new Network().start();
  const runtime = await getContainerRuntimeClient();
  const started = await Promise.allSettled(
    options.names.map(async (name) => {
      const password = `pw-${name}-${Math.random().toString(36).slice(2)}`;
      const hostPort = await freePort();
      let definition = new PostgreSqlContainer(image);
      if (options.memoryData)
        definition = definition
          .withTmpFs({ [MEMORY_MOUNT]: 'rw,mode=1777' })
          .withEnvironment({ PGDATA: `${MEMORY_MOUNT}/data` });
      const container = await definition
        .withNetwork(network)
        .withNetworkAliases(name)
        .withExposedPorts({ container: 5432, host: hostPort })
        .withCommand(['postgres', ...settings.flatMap((setting) => ['-c', setting])])
        .withDatabase(name)
        .withUsername('postgres')
        .withPassword(password)
        .start();
      return containerServer({ name, container, runtime, password, restartable: !options.memoryData });
    }),
  );
  const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  const stopNetwork = async () => void (await network.stop());
  if (failed) {
    await Promise.allSettled(servers.map((server) => server.dispose()));
    await stopNetwork().catch(() => undefined);
    throw new Error(`A PostgreSQL container (image ${image}) did not start: ${String(failed.reason)}`);
  }
  // The network goes once its last container is gone.
  let remaining = servers.length;
  return servers.map((server) => ({
    ...server,
    dispose: async () => {
      await server.dispose();
      if (--remaining === 0) await stopNetwork();
    },
  }));
}
