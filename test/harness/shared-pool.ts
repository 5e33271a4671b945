import { appendFileSync } from 'node:fs';
import path from 'node:path';
import type { BackendName } from './backends.js';
import { dropTestDatabases, type TestDatabase } from './drop-database.js';
import { startPair, type ServerPair } from './pair.js';
import type { PgServer } from './server.js';

/** What a test file needs to reach one server of a shared pair (it never stops that server). */
export interface SharedServerInfo {
  readonly label: string;
  readonly major: number;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly peerHost: string;
  readonly peerPort: number;
  /** The file the server's log is appended to, for servers this harness starts. */
  readonly logFile?: string;
}

/** A shared pair as the pool describes it to a test file. */
export interface SharedPairInfo {
  readonly backend: BackendName;
  readonly legacy: SharedServerInfo;
  readonly app: SharedServerInfo;
}

/** The shared pairs of one backend, one per settings profile, started when first asked for. */
export interface SharedServerPool {
  pair(settings: readonly string[]): Promise<SharedPairInfo>;
  /** A fresh database on each server of the profile's pair, owned by the test process `pid`. */
  freshDatabases(settings: readonly string[], prefix: string, pid: number): Promise<{ legacy: string; app: string }>;
  /** Drops the databases the test process `pid` made so far (its file is done); says how many. */
  release(pid: number): Promise<number>;
  dispose(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs in vitest's main process, which outlives the test files. A file releases its databases
 * (and the slots and subscriptions left in them) when it ends; those of a test process that
 * ended without releasing are dropped too, so a file that failed half-way leaves nothing
 * behind for the files after it.
 */
export function sharedServerPool(backend: BackendName, logDir: string): SharedServerPool {
  const pairs = new Map<string, Promise<ServerPair>>();
  const owned = new Map<number, TestDatabase[]>();
  let cleaning: Promise<void> = Promise.resolve();
  const logsKept = backend === 'embedded' || backend === 'system';
  const logFiles = new Map<ServerPair, { legacy: string; app: string }>();

  const start = (settings: readonly string[]) => {
    const key = [...settings].sort().join(' ');
    let pair = pairs.get(key);
    if (!pair) {
      const files = {
        legacy: path.join(logDir, `${pairs.size}-legacy.log`),
        app: path.join(logDir, `${pairs.size}-app.log`),
      };
      pair = startPair(backend, {
        settings,
        neverStopped: true,
        onLog: (role, text) => appendFileSync(files[role], text),
      }).then((started) => {
        logFiles.set(started, files);
        return started;
      });
      // One that did not start is tried again by the next file rather than failing them all.
      pair.catch(() => pairs.delete(key));
      pairs.set(key, pair);
    }
    return pair;
  };

  const describe = (server: PgServer, logFile: string): SharedServerInfo => ({
    label: server.label,
    major: server.major,
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    peerHost: server.peerHost,
    peerPort: server.peerPort,
    ...(logsKept ? { logFile } : {}),
  });

  const sweep = () => {
    for (const [pid, databases] of owned) {
      if (pid === process.pid || isAlive(pid)) continue;
      owned.delete(pid);
      cleaning = cleaning
        .then(() => dropTestDatabases(databases))
        .catch((error: unknown) =>
          console.warn(`[pg-sync-link tests] could not drop the databases of a finished test file: ${String(error)}`),
        );
    }
  };

  return {
    async pair(settings) {
      const pair = await start(settings);
      const files = logFiles.get(pair)!;
      return { backend, legacy: describe(pair.legacy, files.legacy), app: describe(pair.app, files.app) };
    },
    async freshDatabases(settings, prefix, pid) {
      sweep();
      const pair = await start(settings);
      const names = await pair.freshDatabases(prefix);
      const databases = owned.get(pid) ?? [];
      databases.push({ server: pair.legacy, database: names.legacy }, { server: pair.app, database: names.app });
      owned.set(pid, databases);
      return names;
    },
    async release(pid) {
      const databases = owned.get(pid) ?? [];
      owned.delete(pid);
      await dropTestDatabases(databases);
      return databases.length;
    },
    async dispose() {
      await cleaning;
      const started = await Promise.allSettled(pairs.values());
      await Promise.all(started.map((result) => (result.status === 'fulfilled' ? result.value.dispose() : undefined)));
    },
  };
}
