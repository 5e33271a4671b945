import { existsSync } from 'node:fs';
import { loadOptionalPeer } from '../optional-peer.js';
import { urlOf, type TestServer } from './server.js';

/** Why no Docker engine can be used here, or undefined when one seems reachable. */
export function dockerUnavailableReason(): string | undefined {
  if (process.env.DOCKER_HOST) return undefined;
  if (existsSync('/var/run/docker.sock')) return undefined;
  return 'no Docker engine is reachable (no DOCKER_HOST and no /var/run/docker.sock)';
}

export interface ContainerServersOptions {
  /** Names of the servers (each also a network alias), each with a database of the same name. */
  readonly names: readonly string[];
  /** Default postgres:17. */
  readonly image?: string;
}

/**
 * PostgreSQL containers (testcontainers and @testcontainers/postgresql, optional peer
 * dependencies) on one network, each reaching the others by its name.
 */
export async function startContainerServers(options: ContainerServersOptions): Promise<TestServer[]> {
  const reason = dockerUnavailableReason();
  if (reason) throw new Error(`The testcontainers backend needs Docker: ${reason}.`);
  const install = 'npm install --save-dev testcontainers @testcontainers/postgresql';
  const modules = await Promise.all([
    loadOptionalPeer('@testcontainers/postgresql', () => import('@testcontainers/postgresql'), 'The testcontainers backend of pg-sync-link/testing', install),
    loadOptionalPeer('testcontainers', () => import('testcontainers'), 'The testcontainers backend of pg-sync-link/testing', install),
  ]);
  const [{ PostgreSqlContainer }, { Network }] = modules;
  const network = await new Network().start();
  const image = options.image ?? 'postgres:17';
  const servers = await Promise.all(
    options.names.map(async (name) => {
      const password = `pw-${name}`;
      const container = await new PostgreSqlContainer(image)
        .withNetwork(network)
        .withNetworkAliases(name)
        .withDatabase(name)
        .withUsername('postgres')
        .withPassword(password)
        .start();
      const connection = { host: container.getHost(), port: container.getPort(), user: 'postgres', password };
      const server: TestServer = {
        name,
        ...connection,
        peerHost: name,
        peerPort: 5432,
        database: name,
        url: urlOf(connection, name),
        major: Number(/postgres:(\d+)/.exec(image)?.[1] ?? 0),
        // Restarting a container changes its mapped port; not offered yet.
        stop: () => Promise.reject(new Error('A container server cannot be stopped and started again yet.')),
        start: () => Promise.reject(new Error('A container server cannot be stopped and started again yet.')),
        dispose: async () => {
          await container.stop();
        },
      };
      return server;
    }),
  );
  return servers;
}
