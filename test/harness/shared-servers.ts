import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { ServerPair } from './pair.js';
import type { PgServer } from './server.js';
import type { SharedPairInfo, SharedServerInfo } from './shared-pool.js';

/** Asks the project's shared-server pool (global-setup.ts) over its Unix socket. */
function ask<T>(socket: string, route: string, body: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { socketPath: socket, path: route, method: 'POST', headers: { 'content-type': 'application/json' } },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => {
          // Settled whatever the body is: a throw here would leave the caller waiting for ever.
          try {
            if (response.statusCode !== 200) throw new Error(`The shared test servers failed: ${text}`);
            resolve(JSON.parse(text) as T);
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

function sharedServer({ logFile, ...info }: SharedServerInfo): PgServer {
  const refuse = () =>
    Promise.reject(
      new Error(
        `${info.label} is shared with other test files and cannot be stopped or started: give this file servers of its own with useServers(prefix, setup, { private: true }).`,
      ),
    );
  return {
    ...info,
    canRestart: false,
    stop: refuse,
    start: refuse,
    dispose: async () => {},
    ...(logFile ? { log: () => readLog(logFile) } : {}),
  };
}

/**
 * The project's shared pair for `settings` (started by the first file that asks). Each
 * `freshDatabases` call makes new databases; dispose() drops them (the file is done).
 */
export async function sharedPair(socket: string, settings: readonly string[]): Promise<ServerPair> {
  const info = await ask<SharedPairInfo>(socket, '/pair', { settings });
  return {
    backend: info.backend,
    legacy: sharedServer(info.legacy),
    app: sharedServer(info.app),
    freshDatabases: (prefix) => ask(socket, '/databases', { settings, prefix, pid: process.pid }),
    dispose: () => ask(socket, '/release', { pid: process.pid }),
  };
}
