import { existsSync } from 'node:fs';
import type { StartedNetwork } from 'testcontainers';
import type { PgServer } from './server.js';

/** Why the testcontainers backend cannot run here, or undefined when a Docker engine seems reachable. */
export function dockerUnavailableReason(): string | undefined {
  if (process.env.DOCKER_HOST) return undefined;
  if (existsSync('/var/run/docker.sock')) return undefined;
  return 'no Docker engine is reachable (no DOCKER_HOST and no /var/run/docker.sock)';
}

// Both containers share one network so postgres_fdw in one reaches the other by its alias.
let network: Promise<StartedNetwork> | undefined;

/** A PostgreSQL container (image from PG_TEST_IMAGE, default postgres:17) via testcontainers. */
export async function startContainer(role: 'legacy' | 'app'): Promise<PgServer> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const { Network } = await import('testcontainers');
  network ??= new Network().start();
  const shared = await network;
  const image = process.env.PG_TEST_IMAGE ?? 'postgres:17';
  const container = await new PostgreSqlContainer(image)
    .withNetwork(shared)
    .withNetworkAliases(role)
    .withUsername('postgres')
    .withPassword(`pw-${role}`)
    .start();
  const major = Number(/postgres:(\d+)/.exec(image)?.[1] ?? 0);
  return {
    label: `pg${major} container ${role}`,
    major,
    host: container.getHost(),
    port: container.getPort(),
    peerHost: role,
    peerPort: 5432,
    user: 'postgres',
    password: `pw-${role}`,
    // Restarting a container changes its mapped port; not supported by this harness yet.
    canRestart: false,
    stop: () => Promise.reject(new Error('The container backend cannot stop and restart a server yet.')),
    start: () => Promise.reject(new Error('The container backend cannot stop and restart a server yet.')),
    dispose: async () => {
      await container.stop();
    },
  };
}
