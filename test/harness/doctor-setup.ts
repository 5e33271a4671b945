import type pg from 'pg';
import {
  buildMigration,
  interleavedIds,
  sharedIds,
  sharedIdSource,
  syncEndpoint,
  syncTrigger,
  type Diagnosis,
  type DoctorCheck,
  type Finding,
} from '../../src/index.js';
import { applyInTransaction } from './apply.js';
import { PRODUCTS_DDL } from './legacy-fixture.js';
import { linkTo } from './links.js';
import type { PgServer } from './server.js';

// A healthy installation for the doctor to examine, built with the library's own builders:
// products synced from app to legacy (notes too, at commit), a plain foreign table over legacy's catalogue, block
// shared ids for orders (legacy owns them), and interleaved ids for app's tickets.
export const SYNC_COLUMNS = ['id', 'name', 'description', 'price', 'created_at', 'updated_at'];
const NOTES_DDL = 'CREATE TABLE notes (id bigint PRIMARY KEY, body text)';
export const BLOCKS = { blockSize: 10, blockBase: 1000 } as const;

export async function installHealthy(
  legacy: pg.Client,
  app: pg.Client,
  legacyServer: PgServer,
  legacyDb: string,
): Promise<void> {
  await legacy.query(PRODUCTS_DDL);
  await legacy.query('CREATE TABLE catalogue (id bigint PRIMARY KEY, title text NOT NULL, price integer)');
  await legacy.query('CREATE TABLE orders (id bigserial PRIMARY KEY, note text)');
  await legacy.query(NOTES_DDL);
  await applyInTransaction(
    legacy,
    buildMigration(
      'legacy side',
      syncEndpoint({ table: 'products', key: ['id'], columns: SYNC_COLUMNS }),
      syncEndpoint({ table: 'notes', key: ['id'], columns: ['id', 'body'] }),
      sharedIdSource({ table: 'orders', column: 'id', strategy: 'block', ...BLOCKS }),
    ),
    'up',
  );

  await app.query(PRODUCTS_DDL);
  await app.query('CREATE TABLE orders (id bigserial PRIMARY KEY, note text)');
  await app.query('CREATE TABLE tickets (id serial PRIMARY KEY, note text)');
  await app.query(NOTES_DDL);
  const link = linkTo(legacyServer, legacyDb, 'DOCTOR_LEGACY_PASSWORD');
  await applyInTransaction(
    app,
    buildMigration(
      'app side',
      link,
      syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns: SYNC_COLUMNS }),
      syncTrigger({ server: 'legacy', table: 'notes', key: ['id'], columns: ['id', 'body'], timing: 'commit' }),
      link.foreignTable({
        name: 'legacy_catalogue',
        remote: { schema: 'public', name: 'catalogue' },
        columns: [
          { name: 'id', type: 'bigint' },
          { name: 'title', type: 'text' },
          { name: 'price', type: 'integer' },
        ],
      }),
      sharedIds({ server: 'legacy', table: 'orders', column: 'id', strategy: 'block', ...BLOCKS }),
      interleavedIds({ table: 'tickets', column: 'id', slot: 0, of: 2 }),
    ),
    'up',
  );
}

export function findingsOf(diagnosis: Diagnosis, check: DoctorCheck): Finding[] {
  return diagnosis.findings.filter((item) => item.check === check);
}

export function notOk(diagnosis: Diagnosis): Finding[] {
  return diagnosis.findings.filter((item) => item.severity !== 'ok');
}

/** Every sequence's position, which a catalog snapshot leaves out (nextval is data). */
export async function sequencePositions(client: pg.Client): Promise<unknown[]> {
  const { rows } = await client.query(
    `SELECT schemaname, sequencename, last_value::text FROM pg_sequences ORDER BY 1, 2`,
  );
  return rows;
}
