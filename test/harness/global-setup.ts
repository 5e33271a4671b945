import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { backendFromEnv } from './pair.js';
import { sharedServerPool, type SharedServerPool } from './shared-pool.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Unix socket where test files of this project ask for the shared servers (shared-servers.ts). */
    pgSyncLinkServers: string;
  }
}

type Request = { settings?: string[]; prefix?: string; pid?: number };

async function answer(pool: SharedServerPool, url: string | undefined, body: Request): Promise<unknown> {
  const settings = body.settings ?? [];
  if (url === '/pair') return pool.pair(settings);
  if (url === '/databases') return pool.freshDatabases(settings, body.prefix ?? 'test', body.pid ?? 0);
  // A JSON body, as every answer has: the asking side parses it.
  if (url === '/release') return { dropped: await pool.release(body.pid ?? 0) };
  throw new Error(`No such request: ${url}`);
}

/**
 * vitest globalSetup of each integration project: serves one server pair per settings
 * profile, started on first use and shared by the project's test files, which would
 * otherwise start (initdb) a pair each. Files ask over a Unix socket in a private folder.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pg-sync-link-shared-'));
  const pool = sharedServerPool(backendFromEnv(project.config.env?.PG_SYNC_LINK_BACKEND), dir);
  const server = http.createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      Promise.resolve()
        .then(() => answer(pool, request.url, JSON.parse(text || '{}') as Request))
        .then(
          (result) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result)),
          (error: unknown) =>
            response.writeHead(500).end(error instanceof Error ? (error.stack ?? error.message) : String(error)),
        );
    });
  });
  const socket = path.join(dir, 'socket');
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socket, resolve));
  project.provide('pgSyncLinkServers', socket);
  return async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await pool.dispose();
    await rm(dir, { recursive: true, force: true });
  };
}
