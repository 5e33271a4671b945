import type { StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import type { ContainerRuntimeClient } from 'testcontainers';
import { newPgClient } from '../run/session.js';
import { urlOf, type TestServer } from './server.js';

/** How long start() waits for a restarted container to accept connections. */
const READY_TIMEOUT_MS = 60_000;

interface ContainerServerParts {
  readonly name: string;
  readonly container: StartedPostgreSqlContainer;
  readonly runtime: ContainerRuntimeClient;
  readonly password: string;
  /** False when its data is in a tmpfs, which a stop would lose: stop() then rejects. */
  readonly restartable: boolean;
}

/**
 * A started PostgreSQL container as a TestServer: stop() stops the container and keeps it,
 * start() starts it again on the same host port (its binding is fixed) and waits until the
 * server answers; log() is what the server wrote to the container's output so far.
 */
export async function containerServer(parts: ContainerServerParts): Promise<TestServer> {
  const { name, container, runtime, password, restartable } = parts;
  const connection = { host: container.getHost(), port: container.getPort(), user: 'postgres', password };
  const handle = () => runtime.container.getById(container.getId());
  const logs: string[] = [];
  // The output stream ends when the container stops; start() follows it again from then on.
  const follow = async (since?: number) => {
    const stream = await runtime.container.logs(handle(), { since });
    stream.on('data', (chunk: Buffer | string) => logs.push(chunk.toString()));
    stream.on('error', () => undefined);
  };
  await follow();
  const major = await serverMajor(connection);
  let stoppedAt = 0;
  return {
    name,
    ...connection,
    peerHost: name,
    peerPort: 5432,
    database: name,
    url: urlOf(connection, name),
    major,
    log: () => logs.join(''),
    stop: async () => {
      if (!restartable)
        throw new Error(
          `The ${name} container keeps its data in memory (memoryData): a stop would lose it, so it cannot be stopped and started again.`,
        );
      // SIGINT is PostgreSQL's fast shutdown (open sessions or not); `docker stop` sends the
      // image's stop signal, SIGTERM unless the image says otherwise, which waits for sessions.
      // Not running already is fine: the stop below is what must succeed.
      await handle()
        .kill({ signal: 'SIGINT' })
        .catch(() => undefined);
      await runtime.container.stop(handle(), { timeout: 30_000 });
      stoppedAt = Math.floor(Date.now() / 1000);
    },
    start: async () => {
      await runtime.container.start(handle());
      await follow(stoppedAt);
      await waitUntilReady(connection, name);
    },
    dispose: async () => {
      // Its data goes with it: no shutdown to wait for.
      await container.stop({ timeout: 0 });
    },
  };
}

type Connection = { host: string; port: number; user: string; password: string };

async function serverMajor(connection: Connection): Promise<number> {
  const client = await newPgClient(
    { ...connection, database: 'postgres' },
    'The testcontainers backend needs the pg package: npm install pg',
  );
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>(`SELECT pg_catalog.current_setting('server_version_num') AS v`);
    return Math.floor(Number(rows[0]!.v) / 10000);
  } finally {
    await client.end();
  }
}

/** Polls until the server takes a query, at most READY_TIMEOUT_MS. */
async function waitUntilReady(connection: Connection, name: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      await serverMajor(connection);
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(
          `The ${name} container did not accept connections within ${READY_TIMEOUT_MS / 1000} s after start: ${String(error)}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
