import { InvalidOptionError } from './errors.js';
import {
  fdwExtensionNode,
  foreignServer,
  foreignTable,
  importForeignSchema,
  linkCheck,
  userMapping,
  type ForeignServerOptions,
  type ForeignTableNode,
  type ForeignTableOptions,
  type ImportForeignSchemaNode,
  type ImportForeignSchemaOptions,
  type SyncNode,
  type UserMappingOptions,
} from './kinds/index.js';
import { checkArray, checkBoolean } from './spec/object.js';

/** What fdwLink() takes: the foreign server's options, its user mappings, and whether to check the link. */
export interface FdwLinkOptions extends ForeignServerOptions {
  /** Who connects to the remote as whom; the password is always env() or secret(). */
  readonly userMappings?: readonly Omit<UserMappingOptions, 'server'>[];
  /**
   * Connect once through the new link when it is created, so a wrong host, port, dbname or
   * password fails this migration (default true). Needs a mapping the migrating role uses:
   * CURRENT_USER, CURRENT_ROLE, SESSION_USER or PUBLIC. Pass false to create a link to a
   * server that is not up yet.
   */
  readonly verify?: boolean;
}

/**
 * A postgres_fdw link to one remote database: the extension, the foreign server and its user
 * mappings, as one reversible unit. Its helpers build foreign tables on the same server.
 *
 * @example
 * const legacy = fdwLink({
 *   name: 'legacy', host: 'db.internal', port: 5432, dbname: 'legacy',
 *   options: { fetch_size: 1000 },
 *   userMappings: [{ user: env('LEGACY_DB_USER'), password: env('LEGACY_DB_PASSWORD') }],
 * });
 * // CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db.internal', port '5432', dbname 'legacy', fetch_size '1000')
 * // CREATE USER MAPPING FOR CURRENT_USER SERVER legacy OPTIONS ("user" '[env:LEGACY_DB_USER]', password '[redacted env:LEGACY_DB_PASSWORD]')
 */
export interface FdwLink {
  /** Tells a link from a node. */
  readonly kind: 'fdw-link';
  /** The foreign server's name. */
  readonly server: string;
  /**
   * What the link installs, in order: the postgres_fdw extension, the server, its mappings, and the connection check.
   */
  readonly nodes: readonly SyncNode[];
  /** A foreign table on this link's server: foreignTable() without `server`. */
  foreignTable(options: Omit<ForeignTableOptions, 'server'>): ForeignTableNode;
  /** A schema import from this link's server: importForeignSchema() without `server`. */
  importForeignSchema(options: Omit<ImportForeignSchemaOptions, 'server'>): ImportForeignSchemaNode;
}

/**
 * A postgres_fdw link to one remote database, as one reversible unit: the postgres_fdw extension
 * (created if missing, dropped in down only if this created it), the foreign server, its user
 * mappings, and (with `verify`, the default) one connection through it when the migration runs.
 * Build foreign tables on it with `link.foreignTable(...)` and `link.importForeignSchema(...)`.
 *
 * @example
 * const legacy = fdwLink({
 *   name: 'legacy', host: 'db.internal', dbname: 'legacy',
 *   userMappings: [{ user: 'app', password: env('LEGACY_DB_PASSWORD') }],
 * });
 * // CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db.internal', dbname 'legacy');
 * // CREATE USER MAPPING FOR CURRENT_USER SERVER legacy OPTIONS ("user" 'app', password '[redacted env:LEGACY_DB_PASSWORD]');
 * // down: DROP USER MAPPING FOR CURRENT_USER SERVER legacy; DROP SERVER legacy;
 */
export function fdwLink(options: FdwLinkOptions): FdwLink {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      'fdwLink needs an options object: { name, host, port, dbname, userMappings }.',
      'fdwLink',
    );
  }
  const { userMappings = [], verify, ...serverOptions } = options;
  const server = foreignServer(serverOptions);
  const mappings = checkArray(userMappings, `fdwLink "${server.name}".userMappings`).map((mapping) => {
    if (typeof mapping === 'object' && mapping !== null && 'server' in mapping) {
      throw new InvalidOptionError(
        `fdwLink "${server.name}": a user mapping's server is the link's own; leave server out.`,
        'userMappings',
      );
    }
    // Checked above to carry no server of its own; userMapping() checks the rest.
    return userMapping({ ...(mapping as Omit<UserMappingOptions, 'server'>), server: server.name });
  });
  const seen = new Set<string>();
  for (const mapping of mappings) {
    const key = typeof mapping.role === 'string' ? mapping.role : `role:${mapping.role.role}`;
    if (seen.has(key)) throw new InvalidOptionError(`fdwLink "${server.name}" maps ${key} twice.`, 'userMappings');
    seen.add(key);
  }
  const check = checkBoolean(verify, `fdwLink "${server.name}".verify`) ?? true;
  // The check connects as the migrating role, which only a mapping of these roles covers.
  const usable = mappings.some((mapping) => typeof mapping.role === 'string');
  return Object.freeze({
    kind: 'fdw-link' as const,
    server: server.name,
    nodes: Object.freeze([fdwExtensionNode, server, ...mappings, ...(check && usable ? [linkCheck(server.name)] : [])]),
    foreignTable: (table: Omit<ForeignTableOptions, 'server'>) => foreignTable({ ...table, server: server.name }),
    importForeignSchema: (spec: Omit<ImportForeignSchemaOptions, 'server'>) =>
      importForeignSchema({ ...spec, server: server.name }),
  });
}
