// Test setup with pg-sync-link/testing.
import { applySyncLink, env, fdwLink } from 'pg-sync-link';
import { startTestServers, type TestServer } from 'pg-sync-link/testing';

export async function withServers(): Promise<number> {
  const { servers, dispose } = await startTestServers();
  try {
    const legacy: TestServer | undefined = servers.legacy;
    const app: TestServer | undefined = servers.app;
    if (!legacy || !app) throw new Error('no servers');
    await applySyncLink(
      app.url,
      fdwLink({
        name: 'legacy',
        host: legacy.peerHost,
        port: legacy.peerPort,
        dbname: legacy.database,
        userMappings: [{ user: legacy.user, password: env('LEGACY_PASSWORD') }],
      }),
    );
    return app.major;
  } finally {
    await dispose();
  }
}
