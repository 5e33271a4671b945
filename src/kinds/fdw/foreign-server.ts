import { isRecord } from '../../spec/guards.js';
import { InvalidOptionError } from '../../errors.js';
import type { Deferred } from '../../secrets.js';
import { checkObject } from '../../spec/object.js';
import {
  alterOptionsClause,
  checkOptions,
  optionsClause,
  SERVER_OPTIONS,
  type CheckedOption,
  type OptionValue,
} from '../../spec/fdw-options.js';
import { checkIdentifier, ident, sql } from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import type { KindDefinition } from '../kind.js';

/** What foreignServer() (and fdwLink()) take: where the remote PostgreSQL server is. */
export interface ForeignServerOptions {
  /** Local name of the foreign server, e.g. `legacy`. */
  readonly name: string;
  /** Host name, IP address or socket directory of the remote PostgreSQL server. */
  readonly host: string | Deferred;
  /** The remote server's port; when left out, libpq's default (normally 5432). */
  readonly port?: number | string | Deferred;
  /** The database to connect to on the remote server. */
  readonly dbname: string | Deferred;
  /**
   * Any other postgres_fdw server option: fetch_size, batch_size, use_remote_estimate, sslmode...
   * Overrides LINK_CONNECTION_DEFAULTS (give `undefined` to leave one of them out).
   */
  readonly options?: Readonly<Record<string, OptionValue | undefined>>;
  /**
   * Settings for every session this server opens on the remote, e.g. `{ lock_timeout: '2s' }`
   * so a write through the link waiting on a remote lock gives up instead of waiting forever
   * (a deadlock across two servers is seen by neither). Sent as libpq `options` (-c name=value).
   */
  readonly remoteSettings?: Readonly<Record<string, string | number>>;
}

/** A checked foreign server, as foreignServer() builds it. */
export interface ForeignServerNode {
  /** Tells the node kinds apart. */
  readonly kind: 'foreign-server';
  /** The foreign server's local name. */
  readonly name: string;
  /** Its postgres_fdw options, checked, in the order given. */
  readonly options: readonly CheckedOption[];
}

const KEYS = ['name', 'host', 'port', 'dbname', 'options', 'remoteSettings'] as const;

/**
 * Connection options every foreign server gets unless its `options` say otherwise: they bound
 * what libpq can bound. connect_timeout (seconds) ends a connection attempt to an unreachable
 * host (libpq applies it; postgres_fdw on PostgreSQL 17+ waits in its own loop and does not,
 * and no option ends a wait on a peer that accepts and never answers: the writer's
 * statement_timeout does). Keepalives (seconds) and tcp_user_timeout (milliseconds, Linux)
 * end a connection whose peer vanished without closing it.
 */
export const LINK_CONNECTION_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  connect_timeout: '10',
  keepalives: '1',
  keepalives_idle: '30',
  keepalives_interval: '10',
  keepalives_count: '3',
  tcp_user_timeout: '60000',
});
const SETTING_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;
const SETTING_VALUE = /^[A-Za-z0-9_.:+-]+$/;

/**
 * A postgres_fdw foreign server: where the remote database is. fdwLink() makes one with its
 * extension and user mappings; use this alone to manage the mappings yourself.
 *
 * @example
 * foreignServer({ name: 'legacy', host: 'db.internal', port: 5432, dbname: 'legacy', options: { fetch_size: 1000 } })
 * // CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db.internal', port '5432', dbname 'legacy', fetch_size '1000');
 * // down: DROP SERVER legacy;
 */
export function foreignServer(input: ForeignServerOptions): ForeignServerNode {
  const spec = checkObject(input, 'fdwServer', KEYS);
  const name = checkIdentifier(spec.name, 'foreign server');
  const path = `foreign server "${name}"`;
  for (const required of ['host', 'dbname'] as const) {
    if (spec[required] === undefined || spec[required] === '') {
      throw new InvalidOptionError(
        `${path} needs a ${required}: the remote server's ${required === 'host' ? 'host name or address' : 'database name'}.`,
        `${path}.${required}`,
      );
    }
  }
  if (spec.options !== undefined && !isRecord(spec.options))
    throw new InvalidOptionError(`${path} options must be an object of name: value.`, `${path}.options`);
  const extra = isRecord(spec.options) ? spec.options : {};
  for (const key of ['host', 'port', 'dbname'] as const) {
    if (key in extra)
      throw new InvalidOptionError(
        `${path}: give ${key} once, as a top-level field, not in options.`,
        `${path}.options.${key}`,
      );
  }
  for (const key of ['user', 'password'] as const) {
    if (key in extra) {
      throw new InvalidOptionError(
        `${path}: ${key} belongs to a user mapping, not to the server; put it in userMappings.`,
        `${path}.options.${key}`,
      );
    }
  }
  const settings = remoteSettings(spec.remoteSettings, path, extra.options);
  const options = checkOptions(
    SERVER_OPTIONS,
    { host: spec.host, port: spec.port, dbname: spec.dbname, ...LINK_CONNECTION_DEFAULTS, ...extra, ...settings },
    path,
  );
  return Object.freeze({ kind: 'foreign-server', name, options: Object.freeze(options) });
}

/** The libpq `options` value carrying the remote settings, merged with one given in options. */
function remoteSettings(value: unknown, path: string, given: unknown): { options?: unknown } {
  if (value === undefined) return {};
  const settings = checkObject(value, `${path}.remoteSettings`, Object.keys(value as object));
  const parts = Object.entries(settings).map(([name, setting]) => {
    if (!SETTING_NAME.test(name)) {
      throw new InvalidOptionError(
        `${path}.remoteSettings: "${name}" is not a setting name.`,
        `${path}.remoteSettings.${name}`,
      );
    }
    const text = typeof setting === 'number' && Number.isFinite(setting) ? String(setting) : setting;
    if (typeof text !== 'string' || !SETTING_VALUE.test(text)) {
      throw new InvalidOptionError(
        `${path}.remoteSettings.${name} must be a value of letters, digits and . : + - _ (such as 2s or 500), got ${JSON.stringify(setting)}.`,
        `${path}.remoteSettings.${name}`,
      );
    }
    return `-c ${name}=${text}`;
  });
  if (given !== undefined && typeof given !== 'string') {
    throw new InvalidOptionError(
      `${path}: options.options must be a string to combine with remoteSettings.`,
      `${path}.options.options`,
    );
  }
  return { options: [...parts, ...(given ? [given] : [])].join(' ') };
}

export function renderForeignServer(node: ForeignServerNode): Rendered {
  const path = `foreign server "${node.name}"`;
  return {
    up: [sql`CREATE SERVER ${ident(node.name)} FOREIGN DATA WRAPPER postgres_fdw${optionsClause(node.options, path)}`],
    down: [sql`DROP SERVER ${ident(node.name)}`],
  };
}

/** A server whose options changed is altered in place: its mappings and tables stay. */
export function renderForeignServerChange(before: ForeignServerNode, after: ForeignServerNode): Rendered {
  const path = `foreign server "${after.name}"`;
  const forward = alterOptionsClause(before.options, after.options, path);
  const backward = alterOptionsClause(after.options, before.options, path);
  return {
    up: forward ? [sql`ALTER SERVER ${ident(after.name)}${forward}`] : [],
    down: backward ? [sql`ALTER SERVER ${ident(after.name)}${backward}`] : [],
  };
}

/** A foreign server in the kind registry (src/kinds/registry.ts). */
export const foreignServerKind: KindDefinition<ForeignServerNode> = {
  render: renderForeignServer,
  change: renderForeignServerChange,
  describe: (node) => `server ${node.name}`,
  identity: (node) => `server ${JSON.stringify(node.name)}`,
  step: (node) => `link-${node.name}`,
};
