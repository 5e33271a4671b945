import { isRecord } from './guards.js';
import { InvalidOptionError } from '../errors.js';
import { isDeferred, type Deferred } from '../secrets.js';
import { deferredLiteral, ident, join, literal, sql, empty, type Fragment } from '../sql/index.js';
import { closest } from './suggest.js';

/** What a postgres_fdw option accepts. Values are checked here; PostgreSQL checks them again. */
type OptionKind =
  | 'text'
  | 'host'
  | 'port'
  | 'boolean'
  | 'nonNegativeInteger'
  | 'positiveInteger'
  | 'nonNegativeNumber'
  | 'secret'
  | readonly string[];

const SSL_PROTOCOLS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/** Options of CREATE SERVER ... FOREIGN DATA WRAPPER postgres_fdw: libpq's and postgres_fdw's own. */
export const SERVER_OPTIONS: Readonly<Record<string, OptionKind>> = {
  host: 'host',
  hostaddr: 'text',
  port: 'port',
  dbname: 'text',
  connect_timeout: 'nonNegativeInteger',
  options: 'text',
  application_name: 'text',
  keepalives: ['0', '1'],
  keepalives_idle: 'nonNegativeInteger',
  keepalives_interval: 'nonNegativeInteger',
  keepalives_count: 'nonNegativeInteger',
  tcp_user_timeout: 'nonNegativeInteger',
  sslmode: ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'],
  sslcompression: ['0', '1'],
  sslcert: 'text',
  sslkey: 'text',
  sslrootcert: 'text',
  sslcrl: 'text',
  sslcrldir: 'text',
  sslsni: ['0', '1'],
  ssl_min_protocol_version: SSL_PROTOCOLS,
  ssl_max_protocol_version: SSL_PROTOCOLS,
  requirepeer: 'text',
  gssencmode: ['disable', 'prefer', 'require'],
  krbsrvname: 'text',
  gsslib: 'text',
  target_session_attrs: ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'],
  load_balance_hosts: ['disable', 'random'],
  use_remote_estimate: 'boolean',
  fdw_startup_cost: 'nonNegativeNumber',
  fdw_tuple_cost: 'nonNegativeNumber',
  extensions: 'text',
  fetch_size: 'positiveInteger',
  batch_size: 'positiveInteger',
  async_capable: 'boolean',
  parallel_commit: 'boolean',
  parallel_abort: 'boolean',
  keep_connections: 'boolean',
  updatable: 'boolean',
  truncatable: 'boolean',
  analyze_sampling: ['off', 'auto', 'random', 'system', 'bernoulli'],
  // PostgreSQL 18: connect with the SCRAM keys of the local login instead of a stored password.
  use_scram_passthrough: 'boolean',
};

/** Options of CREATE USER MAPPING for a postgres_fdw server. */
export const USER_MAPPING_OPTIONS: Readonly<Record<string, OptionKind>> = {
  user: 'text',
  password: 'secret',
  password_required: 'boolean',
  sslcert: 'text',
  sslkey: 'text',
  sslpassword: 'secret',
  use_scram_passthrough: 'boolean',
};

/** Options of CREATE FOREIGN TABLE (schema_name and table_name come from `remote`). */
export const FOREIGN_TABLE_OPTIONS: Readonly<Record<string, OptionKind>> = {
  use_remote_estimate: 'boolean',
  updatable: 'boolean',
  truncatable: 'boolean',
  fetch_size: 'positiveInteger',
  batch_size: 'positiveInteger',
  async_capable: 'boolean',
  analyze_sampling: ['off', 'auto', 'random', 'system', 'bernoulli'],
};

/** Options of IMPORT FOREIGN SCHEMA. */
export const IMPORT_OPTIONS: Readonly<Record<string, OptionKind>> = {
  import_collate: 'boolean',
  import_default: 'boolean',
  import_generated: 'boolean',
  import_not_null: 'boolean',
};

export type OptionValue = string | number | boolean | Deferred;

/** A checked option: a literal now, or a deferred value checked again once resolved. */
export interface CheckedOption {
  /** The option's name, as postgres_fdw spells it. */
  readonly name: string;
  /** Its value as text, or a deferred value resolved when the migration runs. */
  readonly value: string | Deferred;
  /** The kind of value it takes, which decides how it is checked. */
  readonly kind: OptionKind;
}

const INTEGER = /^(0|[1-9][0-9]*)$/;
const NUMBER = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const HOST = /^[^\s'"\\\u0000-\u001f]+$/;

/** Returns what is wrong with a text value for an option of this kind, or undefined. */
function problemWith(kind: OptionKind, value: string): string | undefined {
  if (Array.isArray(kind)) return kind.includes(value) ? undefined : `must be one of ${kind.join(', ')}.`;
  switch (kind) {
    case 'text':
    case 'secret':
      return value === '' ? 'must not be empty.' : undefined;
    case 'host':
      return HOST.test(value)
        ? undefined
        : 'must be a host name, address or socket directory, with no spaces or quotes.';
    case 'port': {
      const port = Number(value);
      return INTEGER.test(value) && port >= 1 && port <= 65535 ? undefined : 'must be a port number from 1 to 65535.';
    }
    case 'boolean':
      return value === 'true' || value === 'false' ? undefined : 'must be true or false.';
    case 'nonNegativeInteger':
      return INTEGER.test(value) ? undefined : 'must be a whole number, 0 or more.';
    case 'positiveInteger':
      return INTEGER.test(value) && value !== '0' ? undefined : 'must be a whole number, 1 or more.';
    case 'nonNegativeNumber':
      return NUMBER.test(value) ? undefined : 'must be a number, 0 or more.';
    default:
      return undefined;
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * Checks one option against a catalog and returns it with its value as text (or deferred).
 * `path` names the option in errors, e.g. `fdwServer "legacy" option fetch_size`.
 */
export function checkOption(
  catalog: Readonly<Record<string, OptionKind>>,
  name: string,
  value: unknown,
  path: string,
): CheckedOption {
  const kind = catalog[name];
  if (kind === undefined) {
    const guess = closest(name, Object.keys(catalog));
    throw new InvalidOptionError(
      `Unknown postgres_fdw option "${name}" for ${path}.${guess ? ` Did you mean "${guess}"?` : ''} Known options: ${Object.keys(catalog).join(', ')}.`,
      `${path}.${name}`,
    );
  }
  const where = `${path} option ${name}`;
  if (kind === 'secret') {
    if (!isDeferred(value)) {
      throw new InvalidOptionError(
        `${where} must be env('VARIABLE') or secret(label, resolver), never a plain value: a password written in a migration file ends up in version control.`,
        where,
      );
    }
    return { name, value, kind };
  }
  if (isDeferred(value)) return { name, value, kind };
  let text: string;
  if (typeof value === 'boolean') text = String(value);
  else if (typeof value === 'number') text = String(value);
  else if (typeof value === 'string') text = value;
  else throw new InvalidOptionError(`${where} must be a string, number or boolean, got ${describe(value)}.`, where);
  const problem = problemWith(kind, text);
  if (problem !== undefined) throw new InvalidOptionError(`${where} ${problem} Got ${describe(value)}.`, where);
  return { name, value: text, kind };
}

/** Checks every option of a record (undefined values are left out). */
export function checkOptions(
  catalog: Readonly<Record<string, OptionKind>>,
  options: unknown,
  path: string,
): readonly CheckedOption[] {
  if (options === undefined) return [];
  if (!isRecord(options)) {
    throw new InvalidOptionError(`${path} options must be an object of name: value.`, path);
  }
  return Object.entries(options)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => checkOption(catalog, name, value, path));
}

function optionValue(option: CheckedOption, path: string): Fragment {
  if (typeof option.value === 'string') return literal(option.value);
  const kind = option.kind;
  return deferredLiteral({
    deferred: option.value,
    sensitive: kind === 'secret',
    usedFor: `${path} option ${option.name}`,
    check: (value) => problemWith(kind, value),
  });
}

/** ` OPTIONS (name 'value', ...)`, or nothing when there are no options. */
export function optionsClause(options: readonly CheckedOption[], path: string): Fragment {
  if (options.length === 0) return empty;
  return sql` OPTIONS (${join(options.map((option) => sql`${ident(option.name)} ${optionValue(option, path)}`))})`;
}

/** Two option values are the same when their text (or deferred label) is. */
function sameValue(a: CheckedOption, b: CheckedOption): boolean {
  return (
    (typeof a.value === 'string' ? a.value : a.value.label) === (typeof b.value === 'string' ? b.value : b.value.label)
  );
}

/**
 * ` OPTIONS (ADD ..., SET ..., DROP ...)` turning `before` into `after`, or undefined when they
 * are the same. A deferred value is set again whenever it is given (its value may have changed).
 */
export function alterOptionsClause(
  before: readonly CheckedOption[],
  after: readonly CheckedOption[],
  path: string,
): Fragment | undefined {
  const changes: Fragment[] = [];
  for (const option of after) {
    const old = before.find((candidate) => candidate.name === option.name);
    if (old !== undefined && sameValue(old, option) && typeof option.value === 'string') continue;
    changes.push(sql`${old === undefined ? sql`ADD` : sql`SET`} ${ident(option.name)} ${optionValue(option, path)}`);
  }
  for (const option of before) {
    if (!after.some((candidate) => candidate.name === option.name)) changes.push(sql`DROP ${ident(option.name)}`);
  }
  return changes.length === 0 ? undefined : sql` OPTIONS (${join(changes)})`;
}
