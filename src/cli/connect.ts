import { loadOptionalPeer, type DatabaseTarget } from 'pg-sync-link';

/**
 * Runs `work` on a database the command was pointed at: a URL as it is (the library connects),
 * a knexfile's connection object through a pg Client opened and closed here. The one place the
 * command-line tool loads pg itself; `settings` add to the object's (e.g. a connect timeout).
 */
export async function onDatabase<T>(
  target: string | Record<string, unknown>,
  purpose: string,
  work: (db: DatabaseTarget) => Promise<T>,
  settings: Record<string, unknown> = {},
): Promise<T> {
  if (typeof target === 'string') return work(target);
  const pg = await loadOptionalPeer('pg', () => import('pg'), purpose);
  const Client = pg.default?.Client ?? pg.Client;
  const client = new Client({ ...settings, ...target });
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
