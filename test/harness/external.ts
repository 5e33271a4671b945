import { serverMajor, type PgServer } from './server.js';

/**
 * Servers you already run, given by URL: PG_TEST_LEGACY_URL and PG_TEST_APP_URL for two
 * servers, or PG_TEST_URL alone for one server playing both parts (then nothing can be
 * stopped, and tests that stop a server are skipped). The role must be able to create
 * databases and the postgres_fdw extension.
 */
export async function startExternal(role: 'legacy' | 'app'): Promise<PgServer> {
  const variable = role === 'legacy' ? 'PG_TEST_LEGACY_URL' : 'PG_TEST_APP_URL';
  const raw = process.env[variable] ?? process.env.PG_TEST_URL;
  if (!raw) throw new Error(`Set ${variable} (or PG_TEST_URL) to a postgres:// URL to use the external backend.`);
  const url = new URL(raw);
  const connection = {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'postgres'),
    password: decodeURIComponent(url.password),
  };
  const major = await serverMajor(connection, decodeURIComponent(url.pathname.slice(1)) || 'postgres');
  const cannot = () => Promise.reject(new Error('An external server cannot be stopped or started by the tests.'));
  return {
    label: `pg${major} external ${role}`,
    major,
    ...connection,
    peerHost: process.env.PG_TEST_PEER_HOST ?? connection.host,
    peerPort: Number(process.env.PG_TEST_PEER_PORT ?? connection.port),
    canRestart: false,
    stop: cannot,
    start: cannot,
    dispose: async () => {},
  };
}
