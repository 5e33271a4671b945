import { ID_STEM_SEPARATOR, idSuffix } from '../kinds/ids/ids-names.js';
import {
  ENDPOINT_VIEW_PATTERN,
  parseEndpointView,
  SENDER_TRIGGER_EVENTS,
  senderObjects,
} from '../kinds/sync/sync-names.js';
import type { Inventory, Query, SequenceUse, SyncTriggerInfo } from './inventory-types.js';

// What pg-sync-link (and postgres_fdw) objects the database holds, read from its catalog with
// fixed queries (names are only ever bound as parameters). Sync and shared-id objects are found
// by the names the sync and ids families derive (src/kinds/sync/sync-names.ts, src/kinds/ids/ids-names.ts).

export { queryOf } from './inventory-types.js';
export type {
  Query,
  ServerInfo,
  MappingInfo,
  ForeignColumn,
  ForeignTableInfo,
  SyncTriggerInfo,
  SharedIdBorrower,
  SequenceKind,
  SequenceUse,
  EndpointView,
  Inventory,
} from './inventory-types.js';

function optionMap(options: readonly string[] | null): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of options ?? []) {
    const at = entry.indexOf('=');
    map.set(entry.slice(0, at), entry.slice(at + 1));
  }
  return map;
}

const NOT_TEMP = `n.oid <> pg_catalog.pg_my_temp_schema() AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)`;

/**
 * The server a sync trigger sends to, when its function and trigger names are those a syncTrigger
 * derives for one of `servers` (shortened with a hash when a table or server name is long).
 */
export function syncServerOf(
  schema: string,
  table: string,
  fn: string,
  trigger: string,
  servers: readonly string[],
): string | undefined {
  return servers.find((server) => {
    const objects = senderObjects({ schema, name: table }, server);
    return objects.function.name === fn && SENDER_TRIGGER_EVENTS.some((event) => trigger === objects.trigger(event));
  });
}

export async function readInventory(query: Query): Promise<Inventory> {
  const [about] = await query<{ version: string; num: number; role: string }>(
    `SELECT pg_catalog.current_setting('server_version') AS version, pg_catalog.current_setting('server_version_num')::int AS num, CURRENT_USER::text AS role`,
  );
  const [fdw] = await query<{ default_version: string; installed_version: string | null }>(
    `SELECT default_version, installed_version FROM pg_catalog.pg_available_extensions WHERE name = 'postgres_fdw'`,
  );
  const servers = await query<{ name: string; wrapper: string; options: string[] | null }>(
    `SELECT s.srvname::text AS name, w.fdwname::text AS wrapper, s.srvoptions AS options
     FROM pg_catalog.pg_foreign_server s JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw ORDER BY 1`,
  );
  const mappings = await query<{ server: string; role: string | null; options: string[] | null }>(
    `SELECT srvname::text AS server, CASE WHEN umuser = 0 THEN NULL ELSE usename::text END AS role, umoptions AS options
     FROM pg_catalog.pg_user_mappings ORDER BY 1, 2`,
  );
  const tables = await query<{
    schema: string;
    name: string;
    server: string;
    options: string[] | null;
    columns: Array<{ name: string; type_oid: number; typmod: number; type: string; options: string[] | null }>;
  }>(
    `SELECT n.nspname::text AS schema, c.relname::text AS name, s.srvname::text AS server, ft.ftoptions AS options,
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_object('name', a.attname, 'type_oid', a.atttypid, 'typmod', a.atttypmod,
          'type', pg_catalog.format_type(a.atttypid, a.atttypmod), 'options', a.attfdwoptions) ORDER BY a.attnum)
        FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
     FROM pg_catalog.pg_foreign_table ft JOIN pg_catalog.pg_class c ON c.oid = ft.ftrelid
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
     WHERE w.fdwname = 'postgres_fdw' AND ${NOT_TEMP} ORDER BY 1, 2`,
  );
  const triggers = await query<{
    schema: string;
    table: string;
    trigger: string;
    enabled: string;
    function: string;
    owner: string;
    security_definer: boolean;
  }>(
    `SELECT n.nspname::text AS schema, c.relname::text AS table, t.tgname::text AS trigger, t.tgenabled::text AS enabled,
       p.proname::text AS function, pg_catalog.pg_get_userbyid(p.proowner)::text AS owner, p.prosecdef AS security_definer
     FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
     WHERE NOT t.tgisinternal AND p.pronamespace = c.relnamespace AND ${NOT_TEMP}
       -- A sync to another table of the same database has no link to check.
       AND p.prosrc NOT LIKE '%pg_sync_link.local_origin%' ORDER BY 1, 2, 3`,
  );
  // Borrowing side of shared ids: <table>__<column>_next_id() reading the foreign table <table>__<column>_source.
  const borrowers = await query<{
    schema: string;
    function: string;
    owner: string;
    security_definer: boolean;
    server: string;
    source: string;
    cache: string | null;
  }>(
    `SELECT n.nspname::text AS schema, p.proname::text AS function, pg_catalog.pg_get_userbyid(p.proowner)::text AS owner,
       p.prosecdef AS security_definer, s.srvname::text AS server, c.relname::text AS source,
       (SELECT q.oid::pg_catalog.regclass::text FROM pg_catalog.pg_class q WHERE q.relnamespace = n.oid AND q.relkind = 'S'
          AND q.relname = pg_catalog.left(p.proname, -pg_catalog.length($1::text)) || $3::text) AS cache
     FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
     JOIN pg_catalog.pg_class c ON c.relnamespace = p.pronamespace AND c.relkind = 'f' AND c.relname = pg_catalog.left(p.proname, -pg_catalog.length($1::text)) || $2::text
     JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
     WHERE pg_catalog.right(p.proname, pg_catalog.length($1::text)) = $1::text AND p.pronargs = 0 AND ${NOT_TEMP} ORDER BY 1, 2`,
    [idSuffix('next_id'), idSuffix('source'), idSuffix('cache')],
  );
  // Sequences behind table columns (serial or owned), with the shared-id objects next to them.
  const columnSequences = await query<{
    sequence: string;
    oid: number;
    table: string;
    column: string;
    per_row: boolean;
    blocks: number | null;
  }>(
    `SELECT d.objid::pg_catalog.regclass::text AS sequence, d.objid::int8 AS oid, c.oid::pg_catalog.regclass::text AS table, a.attname::text AS column,
       EXISTS (SELECT 1 FROM pg_catalog.pg_class v WHERE v.relnamespace = c.relnamespace AND v.relkind = 'v' AND v.relname = c.relname || $1::text || a.attname || $2::text) AS per_row,
       (SELECT b.oid::int8 FROM pg_catalog.pg_class b WHERE b.relnamespace = c.relnamespace AND b.relkind = 'S' AND b.relname = c.relname || $1::text || a.attname || $3::text) AS blocks
     FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
     JOIN pg_catalog.pg_class c ON c.oid = d.refobjid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
     WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0 AND ${NOT_TEMP} ORDER BY 1`,
    [ID_STEM_SEPARATOR, idSuffix('next'), idSuffix('blocks')],
  );
  const wanted = new Map<number, Pick<SequenceUse, 'kind' | 'role' | 'column'>>();
  for (const row of columnSequences) {
    const at = `${row.table}.${row.column}`;
    const column = { table: row.table, name: row.column };
    if (row.per_row)
      wanted.set(Number(row.oid), {
        kind: 'per-row',
        role: `the id sequence of ${at}, shared per row through its __next view`,
        column,
      });
    if (row.blocks !== null) {
      wanted.set(Number(row.oid), {
        kind: 'capped',
        role: `the id sequence of ${at}, capped below its first shared block`,
        column,
      });
      wanted.set(Number(row.blocks), {
        kind: 'blocks',
        role: `the block numbers handed out for ${at}`,
        column: undefined,
      });
    }
  }
  const steps = await query<{ oid: number; increment: string }>(
    `SELECT seqrelid::int8 AS oid, seqincrement::text AS increment FROM pg_catalog.pg_sequence`,
  );
  const increments = new Map(steps.map((row) => [Number(row.oid), BigInt(row.increment)]));
  for (const row of columnSequences) {
    const step = increments.get(Number(row.oid)) ?? 1n;
    if (!wanted.has(Number(row.oid)) && (step > 1n || step < -1n)) {
      wanted.set(Number(row.oid), {
        kind: 'interleaved',
        role: `the id sequence of ${row.table}.${row.column}, interleaved (steps by ${step})`,
        column: { table: row.table, name: row.column },
      });
    }
  }
  const cacheNames = borrowers.flatMap((row) => (row.cache === null ? [] : [row.cache]));
  const sequences = await query<{
    oid: number;
    sequence: string;
    data_type: string;
    min: string;
    max: string;
    increment: string;
    start: string;
    last: string | null;
    readable: boolean;
  }>(
    `SELECT s.seqrelid::int8 AS oid, s.seqrelid::pg_catalog.regclass::text AS sequence, pg_catalog.format_type(s.seqtypid, NULL) AS data_type, s.seqmin::text AS min, s.seqmax::text AS max,
       s.seqincrement::text AS increment, s.seqstart::text AS start,
       CASE WHEN pg_catalog.has_sequence_privilege(s.seqrelid, 'SELECT,USAGE') THEN pg_catalog.pg_sequence_last_value(s.seqrelid)::text END AS last,
       pg_catalog.has_sequence_privilege(s.seqrelid, 'SELECT,USAGE') AS readable
     FROM pg_catalog.pg_sequence s
     WHERE s.seqrelid = ANY ($1::pg_catalog.oid[]) OR s.seqrelid::pg_catalog.regclass::text = ANY ($2::text[]) ORDER BY 2`,
    [[...wanted.keys()], cacheNames],
  );
  const endpointRows = await query<{ schema: string; name: string; rules: string[] }>(
    `SELECT n.nspname::text AS schema, c.relname::text AS name,
       ARRAY(SELECT r.rulename::text FROM pg_catalog.pg_rewrite r WHERE r.ev_class = c.oid AND r.ev_type = '3' AND r.is_instead AND r.ev_enabled <> 'D') AS rules
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'v' AND c.relname ~ $1::text AND ${NOT_TEMP}
     ORDER BY 1, 2`,
    [ENDPOINT_VIEW_PATTERN],
  );
  const endpoints = endpointRows.flatMap((row) => {
    const view = parseEndpointView(row.name);
    return view ? [{ schema: row.schema, name: row.name, rule: view.rule, works: row.rules.includes(view.rule) }] : [];
  });
  // suborigin exists from PostgreSQL 16; before it every subscription receives any origin.
  const originNone = about!.num >= 160000 ? `pg_catalog.count(*) FILTER (WHERE suborigin = 'none')::int` : '0';
  const [replication] = await query<{ publications: number; subscriptions: number; origin_none: number }>(
    `SELECT (SELECT pg_catalog.count(*)::int FROM pg_catalog.pg_publication) AS publications, s.subscriptions, s.origin_none
     FROM (SELECT pg_catalog.count(*)::int AS subscriptions, ${originNone} AS origin_none FROM pg_catalog.pg_subscription
           WHERE subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())) AS s`,
  );

  const syncTriggers: SyncTriggerInfo[] = [];
  for (const row of triggers) {
    const server = syncServerOf(
      row.schema,
      row.table,
      row.function,
      row.trigger,
      servers.map((candidate) => candidate.name),
    );
    if (server === undefined) continue;
    syncTriggers.push({
      schema: row.schema,
      table: row.table,
      server,
      trigger: row.trigger,
      enabled: row.enabled,
      function: row.function,
      owner: row.owner,
      securityDefiner: row.security_definer,
    });
  }
  return {
    version: about!.version,
    versionNum: about!.num,
    currentUser: about!.role,
    fdw: {
      available: fdw !== undefined,
      defaultVersion: fdw?.default_version ?? null,
      installedVersion: fdw?.installed_version ?? null,
    },
    servers: servers.map((row) => ({ name: row.name, wrapper: row.wrapper, options: optionMap(row.options) })),
    mappings: mappings.map((row) => {
      const options = optionMap(row.options);
      return {
        server: row.server,
        role: row.role,
        remoteUser: options.get('user'),
        secrets: ['password', 'sslpassword'].flatMap((key) => (options.get(key) ? [options.get(key)!] : [])),
      };
    }),
    foreignTables: tables.map((row) => {
      const options = optionMap(row.options);
      return {
        schema: row.schema,
        name: row.name,
        server: row.server,
        options,
        remote: { schema: options.get('schema_name') ?? row.schema, name: options.get('table_name') ?? row.name },
        columns: (row.columns ?? []).map((column) => ({
          name: column.name,
          remoteName: optionMap(column.options).get('column_name') ?? column.name,
          typeOid: Number(column.type_oid),
          typmod: column.typmod,
          type: column.type,
        })),
      };
    }),
    syncTriggers,
    borrowers: borrowers.map((row) => ({
      schema: row.schema,
      function: row.function,
      owner: row.owner,
      securityDefiner: row.security_definer,
      server: row.server,
      source: row.source,
    })),
    sequences: sequences.map((row) => ({
      sequence: row.sequence,
      ...(wanted.get(Number(row.oid)) ?? {
        kind: 'cache' as const,
        role: `the block cache of shared ids (${row.sequence})`,
        column: undefined,
      }),
      dataType: row.data_type,
      min: BigInt(row.min),
      max: BigInt(row.max),
      increment: BigInt(row.increment),
      start: BigInt(row.start),
      last: row.last === null ? null : BigInt(row.last),
      readable: row.readable,
    })),
    endpoints: endpoints.map((row) => ({ schema: row.schema, name: row.name, rule: row.rule, ruleWorks: row.works })),
    publications: replication!.publications,
    subscriptions: replication!.subscriptions,
    subscriptionsOriginNone: replication!.origin_none,
  };
}
