import type pg from 'pg';

// Every object kind a link can create or change, read by name (never by oid, which changes
// when an object is dropped and made again), so two snapshots compare as plain data.
const USER_NAMESPACES = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'`;

const QUERIES: Record<string, string> = {
  namespaces: `SELECT n.nspname, pg_get_userbyid(n.nspowner) AS owner, n.nspacl::text FROM pg_namespace n WHERE ${USER_NAMESPACES} ORDER BY 1`,
  classes: `SELECT n.nspname, c.relname, c.relkind, c.reloptions::text, c.relacl::text, pg_get_userbyid(c.relowner) AS owner
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_NAMESPACES} ORDER BY 1, 2`,
  // PostgreSQL 17.12 stamps every column with its own attoptions entry pg_attver=<n>, new on each
  // creation: the server's bookkeeping, not something a migration sets or must restore.
  attributes: `SELECT n.nspname, c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
      (SELECT pg_catalog.array_agg(o ORDER BY o) FROM pg_catalog.unnest(a.attoptions) o WHERE o NOT LIKE 'pg\\_attver=%')::text AS attoptions,
      a.attfdwoptions::text, a.attisdropped
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_NAMESPACES} AND a.attnum > 0 ORDER BY 1, 2, 3`,
  defaults: `SELECT n.nspname, c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid) AS expression
    FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE ${USER_NAMESPACES} ORDER BY 1, 2, 3`,
  types: `SELECT n.nspname, t.typname, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${USER_NAMESPACES} ORDER BY 1, 2`,
  procs: `SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid) AS args, md5(p.prosrc) AS body, p.prosecdef, p.proconfig::text
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NAMESPACES} ORDER BY 1, 2, 3`,
  triggers: `SELECT n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid) AS definition, t.tgenabled
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal ORDER BY 1, 2, 3`,
  constraints: `SELECT n.nspname, c.conname, pg_get_constraintdef(c.oid) AS definition
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE ${USER_NAMESPACES} ORDER BY 1, 2, 3`,
  // A sequence's definition, not its position: nextval is data, like a row.
  sequences: `SELECT schemaname, sequencename, data_type::text, start_value::text, min_value::text, max_value::text, increment_by::text, cycle, cache_size::text FROM pg_sequences ORDER BY 1, 2`,
  extensions: `SELECT e.extname, e.extversion, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1`,
  foreignDataWrappers: `SELECT fdwname, fdwoptions::text FROM pg_foreign_data_wrapper ORDER BY 1`,
  foreignServers: `SELECT s.srvname, w.fdwname, s.srvoptions::text, pg_get_userbyid(s.srvowner) AS owner
    FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw ORDER BY 1`,
  foreignTables: `SELECT c.oid::regclass::text AS relation, s.srvname, ft.ftoptions::text
    FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid JOIN pg_foreign_server s ON s.oid = ft.ftserver ORDER BY 1`,
  userMappings: `SELECT srvname, usename, umoptions::text FROM pg_user_mappings ORDER BY 1, 2`,
  descriptions: `SELECT pg_describe_object(d.classoid, d.objoid, d.objsubid) AS object, d.description
    FROM pg_description d WHERE d.objoid >= 16384 ORDER BY 1`,
  publications: `SELECT pubname, puballtables, pubinsert, pubupdate, pubdelete, pubtruncate, pubviaroot FROM pg_publication ORDER BY 1`,
  publicationTables: `SELECT p.pubname, pr.prrelid::regclass::text AS relation, pg_get_expr(pr.prqual, pr.prrelid) AS row_filter, pr.prattrs::text AS columns
    FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid ORDER BY 2, 3`,
  // Subscriptions and slots are cluster-wide catalogs: only this database's are ours.
  subscriptions: `SELECT subname, subslotname, subenabled, subpublications::text FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1`,
  replicationSlots: `SELECT slot_name, plugin, slot_type FROM pg_replication_slots WHERE database = current_database() ORDER BY 1`,
};

export type CatalogSnapshot = Record<string, unknown[]>;

/**
 * Reads the catalog of the connected database. `ignoreTables` drops rows that belong to
 * tables a runner keeps for itself (e.g. knex_migrations), whose presence is not ours to undo.
 */
export async function catalogSnapshot(
  client: pg.Client,
  ignoreTables: readonly string[] = [],
): Promise<CatalogSnapshot> {
  const snapshot: CatalogSnapshot = {};
  for (const [name, query] of Object.entries(QUERIES)) {
    const { rows } = await client.query(query);
    snapshot[name] = rows.filter((row) => !ignoreTables.some((table) => JSON.stringify(row).includes(table)));
  }
  return snapshot;
}
