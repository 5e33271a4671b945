import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import { startPair, type PairOptions, type ServerPair } from './pair.js';
import { connect } from './server.js';
import { sharedPair } from './shared-servers.js';

/** How a test file gets its servers: `settings` picks the shared pair's profile. */
export interface UseServersOptions extends PairOptions {
  /**
   * Start a pair for this file alone instead of using the project's shared pair. Needed by a
   * file that stops, restarts or reconfigures a server (ALTER SYSTEM), reads a whole server
   * log, or depends on what other sessions do on the server (e.g. the oldest open
   * transaction), which would disturb or be disturbed by other files. Default false.
   */
  readonly private?: boolean;
}

export interface ServersForTest {
  /** The pair of servers: the project's shared pair, or the file's own (`private`). */
  readonly pair: ServerPair;
  /** Clients on this test's fresh databases, closed when the test ends. */
  readonly legacy: pg.Client;
  readonly app: pg.Client;
  readonly names: { readonly legacy: string; readonly app: string };
}

/**
 * Gives every test of the file a fresh database on each server of a pair, with a connected
 * client. The pair is the one the project shares among its files for the same `settings`
 * (e.g. wal_level=logical), whose servers cannot be stopped; with `private: true`, or without
 * the project's globalSetup, the file starts a pair of its own. `setup` runs after the
 * databases exist, before the test.
 */
export function useServers(
  prefix: string,
  setup?: (servers: ServersForTest) => Promise<void>,
  options: UseServersOptions = {},
): ServersForTest {
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
    const socket = options.private ? undefined : inject('pgSyncLinkServers');
    pair = socket ? await sharedPair(socket, options.settings ?? []) : await startPair(undefined, options);
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
