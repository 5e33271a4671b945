import type { SqlExecutor } from '../run/execute.js';

// What pg-sync-link (and postgres_fdw) objects the database holds, read from its catalog with
// fixed queries (names are only ever bound as parameters). Sync and shared-id objects are found
// by the names src/kinds/sync/sync-names.ts and src/kinds/ids/shared-ids.ts derive.

export type Query = <T>(text: string, values?: readonly unknown[]) => Promise<T[]>;

/** Rows of a query; values may be arrays or numbers too, which node-postgres binds as such. */
export function queryOf(execute: SqlExecutor): Query {
  return async <T>(text: string, values: readonly unknown[] = []) => ((await execute(text, values as string[])) as { rows: T[] }).rows;
}

export interface ServerInfo {
  readonly name: string;
  readonly wrapper: string;
  readonly options: ReadonlyMap<string, string>;
}

export interface MappingInfo {
  readonly server: string;
  /** `null` for the PUBLIC mapping. */
  readonly role: string | null;
  /** Passwords this role may read (its own mapping, or as the server's owner): scrubbed from messages. */
  readonly secrets: readonly string[];
  /** The remote role it connects as, when this role may read the mapping's options. */
  readonly remoteUser: string | undefined;
}

export interface ForeignColumn {
  readonly name: string;
  readonly remoteName: string;
  readonly typeOid: number;
  readonly typmod: number;
  readonly type: string;
}

export interface ForeignTableInfo {
  readonly schema: string;
  readonly name: string;
  readonly server: string;
  readonly remote: { readonly schema: string; readonly name: string };
  readonly options: ReadonlyMap<string, string>;
  readonly columns: readonly ForeignColumn[];
}

export interface SyncTriggerInfo {
  readonly schema: string;
  readonly table: string;
  readonly server: string;
  readonly trigger: string;
  /** pg_trigger.tgenabled: O (origin and local), A (always), R (replica only), D (disabled). */
  readonly enabled: string;
  readonly function: string;
  readonly owner: string;
  readonly securityDefiner: boolean;
}

export interface SharedIdBorrower {
  readonly schema: string;
  readonly function: string;
  readonly owner: string;
  readonly securityDefiner: boolean;
  readonly server: string;
  readonly source: string;
}

/** What a sequence does for shared ids: the column's own (per-row, capped, interleaved), or block bookkeeping. */
export type SequenceKind = 'per-row' | 'capped' | 'interleaved' | 'blocks' | 'cache';

export interface SequenceUse {
  readonly sequence: string;
  readonly kind: SequenceKind;
  /** What the sequence does for shared ids, for the message. */
  readonly role: string;
  /** The column it gives ids to (a regclass text and a column name), for the column's own sequences. */
  readonly column: { readonly table: string; readonly name: string } | undefined;
  /** Its data type: smallint, integer or bigint. */
  readonly dataType: string;
  readonly min: bigint;
  readonly max: bigint;
  readonly increment: bigint;
  readonly start: bigint;
  /** null when nextval was never called (or the role may not read it). */
  readonly last: bigint | null;
  readonly readable: boolean;
}

/** A receiving side's endpoint view (named by syncEndpoint: <table>__sync_upsert_<hash> or __sync_delete_<hash>). */
export interface EndpointView {
  readonly schema: string;
  readonly name: string;
  readonly rule: 'sync_upsert' | 'sync_delete';
  /** Its INSTEAD rule is there and enabled: without it an insert into the view fails. */
  readonly ruleWorks: boolean;
}

export interface Inventory {
  readonly version: string;
  readonly versionNum: number;
  readonly currentUser: string;
  readonly fdw: { readonly available: boolean; readonly defaultVersion: string | null; readonly installedVersion: string | null };
  readonly servers: readonly ServerInfo[];
  readonly mappings: readonly MappingInfo[];
  readonly foreignTables: readonly ForeignTableInfo[];
  readonly syncTriggers: readonly SyncTriggerInfo[];
  readonly borrowers: readonly SharedIdBorrower[];
  readonly sequences: readonly SequenceUse[];
  readonly endpoints: readonly EndpointView[];
  readonly publications: number;
  readonly subscriptions: number;
}

function optionMap(options: readonly string[] | null): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of options ?? []) {
    const at = entry.indexOf('=');
    map.set(entry.slice(0, at), entry.slice(at + 1));
  }
  return map;
}

const NOT_TEMP = `n.oid <> pg_catalog.pg_my_temp_schema() AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)`;

const TRIGGER_EVENTS = ['insert', 'update', 'update_key', 'delete', 'commit'];

/** The server a sync trigger sends to, when its function and trigger names are those a syncTrigger derives. */
export function syncServerOf(table: string, fn: string, trigger: string): string | undefined {
  const prefix = `${table}__sync_to_`;
  if (!fn.startsWith(prefix)) return undefined;
  const server = fn.slice(prefix.length);
  return TRIGGER_EVENTS.some((event) => trigger === `sync_to_${server}_${event}`) ? server : undefined;
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
  const tables = await query<{ schema: string; name: string; server: string; options: string[] | null; columns: Array<{ name: string; type_oid: number; typmod: number; type: string; options: string[] | null }> }>(
    `SELECT n.nspname::text AS schema, c.relname::text AS name, s.srvname::text AS server, ft.ftoptions AS options,
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_object('name', a.attname, 'type_oid', a.atttypid, 'typmod', a.atttypmod,
          'type', pg_catalog.format_type(a.atttypid, a.atttypmod), 'options', a.attfdwoptions) ORDER BY a.attnum)
        FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
     FROM pg_catalog.pg_foreign_table ft JOIN pg_catalog.pg_class c ON c.oid = ft.ftrelid
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
     WHERE w.fdwname = 'postgres_fdw' AND ${NOT_TEMP} ORDER BY 1, 2`,
  );
  const triggers = await query<{ schema: string; table: string; trigger: string; enabled: string; function: string; owner: string; security_definer: boolean }>(
    `SELECT n.nspname::text AS schema, c.relname::text AS table, t.tgname::text AS trigger, t.tgenabled::text AS enabled,
       p.proname::text AS function, pg_catalog.pg_get_userbyid(p.proowner)::text AS owner, p.prosecdef AS security_definer
     FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
     WHERE NOT t.tgisinternal AND p.pronamespace = c.relnamespace AND ${NOT_TEMP}
       -- A sync to another table of the same database has no link to check.
       AND p.prosrc NOT LIKE '%pg_sync_link.local_origin%' ORDER BY 1, 2, 3`,
  );
  // Borrowing side of shared ids: <table>__<column>_next_id() reading the foreign table <table>__<column>_source.
  const borrowers = await query<{ schema: string; function: string; owner: string; security_definer: boolean; server: string; source: string; cache: string | null }>(
    `SELECT n.nspname::text AS schema, p.proname::text AS function, pg_catalog.pg_get_userbyid(p.proowner)::text AS owner,
       p.prosecdef AS security_definer, s.srvname::text AS server, c.relname::text AS source,
       (SELECT q.oid::pg_catalog.regclass::text FROM pg_catalog.pg_class q WHERE q.relnamespace = n.oid AND q.relkind = 'S'
          AND q.relname = pg_catalog.left(p.proname, -8) || '_cache') AS cache
     FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
     JOIN pg_catalog.pg_class c ON c.relnamespace = p.pronamespace AND c.relkind = 'f' AND c.relname = pg_catalog.left(p.proname, -8) || '_source'
     JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
     WHERE pg_catalog.right(p.proname, 8) = '_next_id' AND p.pronargs = 0 AND ${NOT_TEMP} ORDER BY 1, 2`,
  );
  // Sequences behind table columns (serial or owned), with the shared-id objects next to them.
  const columnSequences = await query<{ sequence: string; oid: number; table: string; column: string; per_row: boolean; blocks: number | null }>(
    `SELECT d.objid::pg_catalog.regclass::text AS sequence, d.objid::int8 AS oid, c.oid::pg_catalog.regclass::text AS table, a.attname::text AS column,
       EXISTS (SELECT 1 FROM pg_catalog.pg_class v WHERE v.relnamespace = c.relnamespace AND v.relkind = 'v' AND v.relname = c.relname || '__' || a.attname || '_next') AS per_row,
       (SELECT b.oid::int8 FROM pg_catalog.pg_class b WHERE b.relnamespace = c.relnamespace AND b.relkind = 'S' AND b.relname = c.relname || '__' || a.attname || '_blocks') AS blocks
     FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
     JOIN pg_catalog.pg_class c ON c.oid = d.refobjid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
     WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0 AND ${NOT_TEMP} ORDER BY 1`,
  );
  const wanted = new Map<number, Pick<SequenceUse, 'kind' | 'role' | 'column'>>();
  for (const row of columnSequences) {
    const at = `${row.table}.${row.column}`;
    const column = { table: row.table, name: row.column };
    if (row.per_row) wanted.set(Number(row.oid), { kind: 'per-row', role: `the id sequence of ${at}, shared per row through its __next view`, column });
    if (row.blocks !== null) {
      wanted.set(Number(row.oid), { kind: 'capped', role: `the id sequence of ${at}, capped below its first shared block`, column });
      wanted.set(Number(row.blocks), { kind: 'blocks', role: `the block numbers handed out for ${at}`, column: undefined });
    }
  }
  const steps = await query<{ oid: number; increment: string }>(`SELECT seqrelid::int8 AS oid, seqincrement::text AS increment FROM pg_catalog.pg_sequence`);
  const increments = new Map(steps.map((row) => [Number(row.oid), BigInt(row.increment)]));
  for (const row of columnSequences) {
    const step = increments.get(Number(row.oid)) ?? 1n;
    if (!wanted.has(Number(row.oid)) && (step > 1n || step < -1n)) {
      wanted.set(Number(row.oid), { kind: 'interleaved', role: `the id sequence of ${row.table}.${row.column}, interleaved (steps by ${step})`, column: { table: row.table, name: row.column } });
    }
  }
  const cacheNames = borrowers.flatMap((row) => (row.cache === null ? [] : [row.cache]));
  const sequences = await query<{ oid: number; sequence: string; data_type: string; min: string; max: string; increment: string; start: string; last: string | null; readable: boolean }>(
    `SELECT s.seqrelid::int8 AS oid, s.seqrelid::pg_catalog.regclass::text AS sequence, pg_catalog.format_type(s.seqtypid, NULL) AS data_type, s.seqmin::text AS min, s.seqmax::text AS max,
       s.seqincrement::text AS increment, s.seqstart::text AS start,
       CASE WHEN pg_catalog.has_sequence_privilege(s.seqrelid, 'SELECT,USAGE') THEN pg_catalog.pg_sequence_last_value(s.seqrelid)::text END AS last,
       pg_catalog.has_sequence_privilege(s.seqrelid, 'SELECT,USAGE') AS readable
     FROM pg_catalog.pg_sequence s
     WHERE s.seqrelid = ANY ($1::pg_catalog.oid[]) OR s.seqrelid::pg_catalog.regclass::text = ANY ($2::text[]) ORDER BY 2`,
    [[...wanted.keys()], cacheNames],
  );
  const endpoints = await query<{ schema: string; name: string; rule: 'sync_upsert' | 'sync_delete'; works: boolean }>(
    `SELECT e.schema, e.name, e.rule,
       EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r WHERE r.ev_class = e.oid AND r.rulename = e.rule AND r.ev_type = '3' AND r.is_instead AND r.ev_enabled <> 'D') AS works
     FROM (SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name,
             CASE WHEN c.relname ~ '__sync_upsert_[0-9a-f]{8}$' THEN 'sync_upsert' ELSE 'sync_delete' END AS rule
           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind = 'v' AND c.relname ~ '__sync_(upsert|delete)_[0-9a-f]{8}$' AND ${NOT_TEMP}) AS e
     ORDER BY 1, 2`,
  );
  const [replication] = await query<{ publications: number; subscriptions: number }>(
    `SELECT (SELECT pg_catalog.count(*)::int FROM pg_catalog.pg_publication) AS publications,
       (SELECT pg_catalog.count(*)::int FROM pg_catalog.pg_subscription WHERE subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())) AS subscriptions`,
  );

  const syncTriggers: SyncTriggerInfo[] = [];
  for (const row of triggers) {
    const server = syncServerOf(row.table, row.function, row.trigger);
    if (server === undefined) continue;
    syncTriggers.push({ schema: row.schema, table: row.table, server, trigger: row.trigger, enabled: row.enabled, function: row.function, owner: row.owner, securityDefiner: row.security_definer });
  }
  return {
    version: about!.version,
    versionNum: about!.num,
    currentUser: about!.role,
    fdw: { available: fdw !== undefined, defaultVersion: fdw?.default_version ?? null, installedVersion: fdw?.installed_version ?? null },
    servers: servers.map((row) => ({ name: row.name, wrapper: row.wrapper, options: optionMap(row.options) })),
    mappings: mappings.map((row) => {
      const options = optionMap(row.options);
      return { server: row.server, role: row.role, remoteUser: options.get('user'), secrets: ['password', 'sslpassword'].flatMap((key) => (options.get(key) ? [options.get(key)!] : [])) };
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
    borrowers: borrowers.map((row) => ({ schema: row.schema, function: row.function, owner: row.owner, securityDefiner: row.security_definer, server: row.server, source: row.source })),
    sequences: sequences.map((row) => ({
      sequence: row.sequence,
      ...(wanted.get(Number(row.oid)) ?? { kind: 'cache' as const, role: `the block cache of shared ids (${row.sequence})`, column: undefined }),
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
  };
}
