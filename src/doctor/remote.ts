import { ident, previewSql, scrubSecrets, sql, type Fragment } from '../sql/index.js';
import type { Query } from './inventory.js';
import { serverErrorOf } from '../run/server-error.js';

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
  | ({ readonly reached: true } & RemoteView)
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
// Names are declared text: a filter on them is then sent to the remote (one on a local `name`
// column, whose collation is C, would not be, and the whole catalog would be fetched).
const CATALOGS: ReadonlyArray<(server: Fragment) => Fragment> = [
  (server) =>
    sql`CREATE FOREIGN TABLE pg_temp.pg_sync_link_doctor_settings (name text, setting text) SERVER ${server} OPTIONS (schema_name 'pg_catalog', table_name 'pg_settings')`,
  (server) =>
    sql`CREATE FOREIGN TABLE pg_temp.pg_sync_link_doctor_namespace (oid oid, nspname text) SERVER ${server} OPTIONS (schema_name 'pg_catalog', table_name 'pg_namespace')`,
  (server) =>
    sql`CREATE FOREIGN TABLE pg_temp.pg_sync_link_doctor_class (oid oid, relname text, relnamespace oid, relkind "char") SERVER ${server} OPTIONS (schema_name 'pg_catalog', table_name 'pg_class')`,
  (server) =>
    sql`CREATE FOREIGN TABLE pg_temp.pg_sync_link_doctor_attribute (attrelid oid, attname text, atttypid oid, atttypmod integer, attnum smallint, attisdropped boolean) SERVER ${server} OPTIONS (schema_name 'pg_catalog', table_name 'pg_attribute')`,
  (server) =>
    sql`CREATE FOREIGN TABLE pg_temp.pg_sync_link_doctor_type (oid oid, typname text, typnamespace oid) SERVER ${server} OPTIONS (schema_name 'pg_catalog', table_name 'pg_type')`,
  // This view lists the privileges of the connected role and the roles it inherits, owner's included.
  (server) =>
    sql`CREATE FOREIGN TABLE pg_temp.pg_sync_link_doctor_privileges (table_schema text, table_name text, privilege_type text) SERVER ${server} OPTIONS (schema_name 'information_schema', table_name 'table_privileges')`,
];

/** The server's message and detail, with every secret this role could read scrubbed. */
export function errorText(error: unknown, secrets: readonly string[]): string {
  const { message, detail } = serverErrorOf(error);
  const text = [message, detail]
    .filter((part) => typeof part === 'string' && part !== '')
    .join(': ')
    .replace(/\s*\n\s*/g, ' ');
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
    const settings = await query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_temp.pg_sync_link_doctor_settings WHERE name IN ('server_version', 'is_superuser')`,
    );
    const setting = (name: string) => settings.find((row) => row.name === name)?.setting;
    const schemas = [...new Set(relations.map((relation) => relation.schema))];
    const names = [...new Set(relations.map((relation) => relation.name))];
    const found =
      relations.length === 0 ? new Map<string, RemoteRelation>() : await readRelations(query, schemas, names);
    const granted =
      relations.length === 0
        ? []
        : await query<{ table_schema: string; table_name: string; privilege_type: string }>(
            `SELECT DISTINCT table_schema, table_name, privilege_type FROM pg_temp.pg_sync_link_doctor_privileges WHERE table_schema = ANY ($1::text[]) AND table_name = ANY ($2::text[])`,
            [schemas, names],
          );
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

/**
 * The columns of the remote relations named, one catalog at a time with every filter sent to
 * the remote (joins of foreign tables are not reliably pushed down), so only these rows travel.
 */
async function readRelations(
  query: Query,
  schemas: readonly string[],
  names: readonly string[],
): Promise<Map<string, RemoteRelation>> {
  const namespaces = await query<{ oid: number; nspname: string }>(
    `SELECT oid, nspname FROM pg_temp.pg_sync_link_doctor_namespace WHERE nspname = ANY ($1::text[])`,
    [schemas],
  );
  const classes =
    namespaces.length === 0
      ? []
      : await query<{ oid: number; relname: string; relnamespace: number }>(
          `SELECT oid, relname, relnamespace FROM pg_temp.pg_sync_link_doctor_class WHERE relnamespace = ANY ($1::oid[]) AND relname = ANY ($2::text[]) AND relkind IN ('r', 'p', 'v', 'm', 'f')`,
          [namespaces.map((row) => row.oid), names],
        );
  const attributes =
    classes.length === 0
      ? []
      : await query<{ attrelid: number; attname: string; atttypid: number; atttypmod: number }>(
          `SELECT attrelid, attname, atttypid, atttypmod FROM pg_temp.pg_sync_link_doctor_attribute WHERE attrelid = ANY ($1::oid[]) AND attnum > 0 AND NOT attisdropped ORDER BY attrelid, attnum`,
          [classes.map((row) => row.oid)],
        );
  const types =
    attributes.length === 0
      ? []
      : await query<{ oid: number; typname: string; typnamespace: number }>(
          `SELECT oid, typname, typnamespace FROM pg_temp.pg_sync_link_doctor_type WHERE oid = ANY ($1::oid[])`,
          [[...new Set(attributes.map((row) => row.atttypid))]],
        );
  const typeSchemas =
    types.length === 0
      ? []
      : await query<{ oid: number; nspname: string }>(
          `SELECT oid, nspname FROM pg_temp.pg_sync_link_doctor_namespace WHERE oid = ANY ($1::oid[])`,
          [[...new Set(types.map((row) => row.typnamespace))]],
        );
  const schemaName = new Map([...namespaces, ...typeSchemas].map((row) => [Number(row.oid), row.nspname]));
  const typeOf = new Map(types.map((row) => [Number(row.oid), row]));
  const byOid = new Map<number, { schema: string; name: string; columns: RemoteColumn[] }>();
  const found = new Map<string, RemoteRelation>();
  for (const row of classes) {
    const relation: { schema: string; name: string; columns: RemoteColumn[] } = {
      schema: schemaName.get(Number(row.relnamespace)) ?? '',
      name: row.relname,
      columns: [],
    };
    byOid.set(Number(row.oid), relation);
    found.set(relationKey(relation.schema, relation.name), relation);
  }
  for (const row of attributes) {
    const type = typeOf.get(Number(row.atttypid));
    byOid.get(Number(row.attrelid))?.columns.push({
      name: row.attname,
      typeSchema: type ? (schemaName.get(Number(type.typnamespace)) ?? '') : '',
      typeName: type?.typname ?? '',
      typmod: row.atttypmod,
    });
  }
  return found;
}
