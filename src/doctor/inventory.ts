import {
  ENDPOINT_VIEW_PATTERN,
  parseEndpointView,
  SENDER_TRIGGER_EVENTS,
  senderObjects,
} from '../kinds/sync/sync-names.js';
import type { Inventory, Query, SyncTriggerInfo } from './inventory-types.js';
import { NOT_TEMP } from './inventory-types.js';
import { readSequenceUses } from './inventory-sequences.js';

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
  const { borrowers, sequences } = await readSequenceUses(query);
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
    borrowers,
    sequences,
    endpoints: endpoints.map((row) => ({ schema: row.schema, name: row.name, rule: row.rule, ruleWorks: row.works })),
    publications: replication!.publications,
    subscriptions: replication!.subscriptions,
    subscriptionsOriginNone: replication!.origin_none,
  };
}
