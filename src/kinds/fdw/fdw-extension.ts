import { dollarQuoted, literal, sql } from '../../sql/index.js';
import type { Rendered } from '../rendered.js';

/** The postgres_fdw extension, shared by every link in a database. */
export interface FdwExtensionNode {
  readonly kind: 'fdw-extension';
}

export const fdwExtensionNode: FdwExtensionNode = Object.freeze({ kind: 'fdw-extension' });

// The extension's comment records that we created it: down drops only an extension we
// created, and only once no foreign server of any link still uses it.
const OWNED_COMMENT = 'foreign-data wrapper for remote PostgreSQL servers (created by pg-sync-link)';

export function renderFdwExtension(): Rendered {
  const owned = literal(OWNED_COMMENT);
  const up = sql`DO ${dollarQuoted(sql`
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'postgres_fdw') THEN
    CREATE EXTENSION postgres_fdw;
    COMMENT ON EXTENSION postgres_fdw IS ${owned};
  END IF;
END
`)}`;
  const down = sql`DO ${dollarQuoted(sql`
BEGIN
  IF EXISTS (
    SELECT 1 FROM pg_catalog.pg_extension e
    WHERE e.extname = 'postgres_fdw' AND pg_catalog.obj_description(e.oid, 'pg_extension') = ${owned}
  ) AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_foreign_server s
    JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
    WHERE w.fdwname = 'postgres_fdw'
  ) THEN
    DROP EXTENSION postgres_fdw;
  END IF;
END
`)}`;
  return { up: [up], down: [down] };
}
