import { ident, previewSql, scrubSecrets, sql, type Fragment } from '../sql/index.js';
import type { Query } from './inventory.js';

// Reads the remote side through a foreign server: temporary foreign tables (in pg_temp) over
// the remote's catalogs, created in a savepoint that is always rolled back, so nothing stays.
// Only catalogs are read remotely: never a shared-id view, whose SELECT would call nextval.

export interface RemoteColumn {
  readonly name: string;
  readonly typeSchema: string;
  readonly typeName: string;
  readonly typmod: number;
}

export interface RemoteRelation {
  readonly schema: string;
  readonly name: string;
  readonly columns: readonly RemoteColumn[];
}

export type ProbeResult =
  | { readonly reached: true } & RemoteView
  /** `setup`: the doctor could not prepare the probe (SET ROLE, TEMP or USAGE privilege); `connect`: the link failed. */
  | { readonly reached: false; readonly stage: 'setup' | 'connect'; readonly error: string };

/** What one user mapping sees of the remote database. */
export interface RemoteView {
  readonly version: string;
  readonly relations: ReadonlyMap<string, RemoteRelation>;
  /** The remote role is a superuser: every privilege holds. */
  readonly superuser: boolean;
  /** Privileges of the remote role (and roles it inherits) on the relations asked for: privilegeKey(schema, name, 'INSERT'). */
  readonly privileges: ReadonlySet<string>;
}

export function privilegeKey(schema: string, name: string, privilege: string): string {
  return JSON.stringify([schema, name, privilege]);
}

export function relationKey(schema: string, name: string): string {
  return JSON.stringify([schema, name]);
}

// The remote catalogs read, as temporary foreign tables with the columns the doctor needs.
const CATALOGS: ReadonlyArray<(server: Fragment) => Fragment> = [
  (server) => sql`CREATE FOREIGN TABLE pg_temp.pg_sync_link_doctor_settings (name text, setting text) SERVER ${server} OPTIONS (schema_name 'pg_catalog', table_name 'pg_settings')`,
  (server) => sql`CREATE FOREIGN TABLE pg_temp.pg_sync_link_doctor_namespace (oid oid, nspname name) SERVER ${server} OPTIONS (schema_name 'pg_catalog', table_name 'pg_namespace')`,
  (server) => sql`CREATE FOREIGN TABLE pg_temp.pg_sync_link_doctor_class (oid oid, relname name, relnamespace oid, relkind "char") SERVER ${server} OPTIONS (schema_name 'pg_catalog', table_name 'pg_class')`,
  (server) => sql`CREATE FOREIGN TABLE pg_temp.pg_sync_link_doctor_attribute (attrelid oid, attname name, atttypid oid, atttypmod integer, attnum smallint, attisdropped boolean) SERVER ${server} OPTIONS (schema_name 'pg_catalog', table_name 'pg_attribute')`,
  (server) => sql`CREATE FOREIGN TABLE pg_temp.pg_sync_link_doctor_type (oid oid, typname name, typnamespace oid) SERVER ${server} OPTIONS (schema_name 'pg_catalog', table_name 'pg_type')`,
  // This view lists the privileges of the connected role and the roles it inherits, owner's included.
  (server) => sql`CREATE FOREIGN TABLE pg_temp.pg_sync_link_doctor_privileges (table_schema text, table_name text, privilege_type text) SERVER ${server} OPTIONS (schema_name 'information_schema', table_name 'table_privileges')`,
];

interface ServerError {
  message?: unknown;
  detail?: unknown;
}

/** The server's message and detail, with every secret this role could read scrubbed. */
export function errorText(error: unknown, secrets: readonly string[]): string {
  const { message, detail } = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as ServerError;
  const text = [message, detail].filter((part) => typeof part === 'string' && part !== '').join(': ').replace(/\s*\n\s*/g, ' ');
  return scrubSecrets(text, secrets);
}

/**
 * Connects through `server` as `role` (the current role when undefined; else SET ROLE, which
 * the doctor's role must be allowed), reads the remote's version and the columns of `relations`.
 */
export async function probeServer(
  query: Query,
  server: string,
  role: string | undefined,
  relations: ReadonlyArray<{ schema: string; name: string }>,
  secrets: readonly string[],
): Promise<ProbeResult> {
  await query('SAVEPOINT pg_sync_link_doctor');
  let stage: 'setup' | 'connect' = 'setup';
  try {
    if (role !== undefined) await query(previewSql(sql`SET LOCAL ROLE ${ident(role)}`));
    for (const create of CATALOGS) await query(previewSql(create(ident(server))));
    stage = 'connect';
    // The first query through the server opens the connection.
    const settings = await query<{ name: string; setting: string }>(`SELECT name, setting FROM pg_temp.pg_sync_link_doctor_settings WHERE name IN ('server_version', 'is_superuser')`);
    const setting = (name: string) => settings.find((row) => row.name === name)?.setting;
    const schemas = [...new Set(relations.map((relation) => relation.schema))];
    const names = [...new Set(relations.map((relation) => relation.name))];
    const rows = relations.length === 0 ? [] : await query<{ schema: string; name: string; column: string | null; type_schema: string | null; type_name: string | null; typmod: number | null }>(
      `SELECT n.nspname::text AS schema, c.relname::text AS name, a.attname::text AS column, tn.nspname::text AS type_schema, t.typname::text AS type_name, a.atttypmod AS typmod
       FROM pg_temp.pg_sync_link_doctor_namespace n JOIN pg_temp.pg_sync_link_doctor_class c ON c.relnamespace = n.oid
       LEFT JOIN pg_temp.pg_sync_link_doctor_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_temp.pg_sync_link_doctor_type t ON t.oid = a.atttypid
       LEFT JOIN pg_temp.pg_sync_link_doctor_namespace tn ON tn.oid = t.typnamespace
       WHERE n.nspname = ANY ($1::name[]) AND c.relname = ANY ($2::name[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       ORDER BY 1, 2, a.attnum`,
      [schemas, names],
    );
    const granted = relations.length === 0 ? [] : await query<{ table_schema: string; table_name: string; privilege_type: string }>(
      `SELECT DISTINCT table_schema, table_name, privilege_type FROM pg_temp.pg_sync_link_doctor_privileges WHERE table_schema = ANY ($1::text[]) AND table_name = ANY ($2::text[])`,
      [schemas, names],
    );
    const found = new Map<string, { schema: string; name: string; columns: RemoteColumn[] }>();
    for (const row of rows) {
      const key = relationKey(row.schema, row.name);
      const relation = found.get(key) ?? { schema: row.schema, name: row.name, columns: [] };
      found.set(key, relation);
      if (row.column !== null) relation.columns.push({ name: row.column, typeSchema: row.type_schema ?? '', typeName: row.type_name ?? '', typmod: row.typmod ?? -1 });
    }
    return {
      reached: true,
      version: setting('server_version') ?? 'unknown',
      relations: found,
      superuser: setting('is_superuser') === 'on',
      privileges: new Set(granted.map((row) => privilegeKey(row.table_schema, row.table_name, row.privilege_type))),
    };
  } catch (error) {
    return { reached: false, stage, error: errorText(error, secrets) };
  } finally {
    await query('ROLLBACK TO SAVEPOINT pg_sync_link_doctor');
    await query('RELEASE SAVEPOINT pg_sync_link_doctor');
  }
}
