import type pg from 'pg';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startPair, type PairOptions, type ServerPair } from './pair.js';
import { connect } from './server.js';

export interface ServersForTest {
  /** The pair of servers, started once for the file. */
  readonly pair: ServerPair;
  /** Clients on this test's fresh databases, closed when the test ends. */
  readonly legacy: pg.Client;
  readonly app: pg.Client;
  readonly names: { readonly legacy: string; readonly app: string };
}

/**
 * Starts a server pair for the test file and gives every test a fresh database on each server,
 * with a connected client. `setup` runs after the databases exist, before the test; `options`
 * gives the servers extra settings (e.g. wal_level=logical).
 */
export function useServers(prefix: string, setup?: (servers: ServersForTest) => Promise<void>, options: PairOptions = {}): ServersForTest {
  let pair: ServerPair | undefined;
  let current: Omit<ServersForTest, 'pair'> | undefined;
  const servers: ServersForTest = {
    get pair() {
      if (!pair) throw new Error('The server pair is not started yet.');
      return pair;
    },
    get legacy() {
      return required().legacy;
    },
    get app() {
      return required().app;
    },
    get names() {
      return required().names;
    },
  };
  const required = () => {
    if (!current) throw new Error('No test databases yet: use them inside a test.');
    return current;
  };
  beforeAll(async () => {
    pair = await startPair(undefined, options);
  });
  afterAll(async () => {
    await pair?.dispose();
  });
  beforeEach(async (context) => {
    const names = await servers.pair.freshDatabases(prefix);
    const legacy = await connect(servers.pair.legacy, names.legacy);
    const app = await connect(servers.pair.app, names.app);
    current = { legacy, app, names };
    context.onTestFinished(async () => {
      current = undefined;
      await Promise.all([legacy.end(), app.end()]);
    });
    await setup?.(servers);
  });
  return servers;
}
