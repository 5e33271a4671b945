import { InvalidOptionError } from '../../errors.js';
import { isDeferred, type Deferred } from '../../secrets.js';
import { checkArray, checkObject } from '../../spec/object.js';
import {
  checkIdentifier,
  deferredLiteral,
  dollarQuoted,
  empty,
  ident,
  integer,
  literal,
  sql,
  type Fragment,
} from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import type { KindDefinition } from '../kind.js';

/** What syncRole() takes: the login role the other side's link connects as. */
export interface SyncRoleOptions {
  /** The login role the other side's user mapping connects as, e.g. `sync_from_app`. */
  readonly name: string;
  /** Always deferred: env('VARIABLE') or secret(label, resolver). postgres_fdw needs a password for a role that is not a superuser. */
  readonly password: Deferred;
  /** Schemas other than `public` that hold endpoints or id sources for this role: it gets USAGE on them (and nothing in them). */
  readonly schemas?: readonly string[];
  /** At most this many sessions at once (the link keeps one per local session that syncs). */
  readonly connectionLimit?: number;
}

/** A checked sync role, as syncRole() builds it. */
export interface SyncRoleNode {
  /** Tells the node kinds apart. */
  readonly kind: 'sync-role';
  /** The role's name. */
  readonly name: string;
  /** Its password, resolved when the migration runs. */
  readonly password: Deferred;
  /** Schemas it gets USAGE on (default none). */
  readonly schemas: readonly string[];
  /** Its CONNECTION LIMIT; undefined for none. */
  readonly connectionLimit: number | undefined;
}

const KEYS = ['name', 'password', 'schemas', 'connectionLimit'] as const;
// PostgreSQL reserves pg_*, and these names mean something else where a role is expected.
const RESERVED = ['public', 'none', 'current_user', 'current_role', 'session_user'];

/**
 * The login role the other side's link connects as, with no rights of its own: it can log in
 * to this database and use the schemas named, nothing else. The grants that let it sync come
 * from `syncEndpoint({ grantTo })` and `sharedIdSource({ grantTo })`, on objects that write the
 * real table with their owner's rights. Install it before them; its down (REVOKE, DROP ROLE)
 * runs after theirs, and fails if the role was given anything else since.
 *
 * @example
 * syncRole({ name: 'sync_from_app', password: env('SYNC_FROM_APP_PASSWORD') })
 * // CREATE ROLE sync_from_app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS PASSWORD '[redacted env:SYNC_FROM_APP_PASSWORD]'
 */
export function syncRole(input: SyncRoleOptions): SyncRoleNode {
  const spec = checkObject(input, 'syncRole', KEYS);
  const name = checkIdentifier(spec.name, 'sync role');
  const path = `sync role "${name}"`;
  if (name.startsWith('pg_') || RESERVED.includes(name.toLowerCase())) {
    throw new InvalidOptionError(
      `${path}: PostgreSQL reserves this role name; choose another, e.g. "sync_from_app".`,
      `${path}.name`,
    );
  }
  if (!isDeferred(spec.password)) {
    throw new InvalidOptionError(
      `${path}.password must be env('VARIABLE') or secret(label, resolver), never a plain value: a password written in a migration file ends up in version control.`,
      `${path}.password`,
    );
  }
  const schemas =
    spec.schemas === undefined
      ? []
      : checkArray(spec.schemas, `${path}.schemas`).map((schema) => checkIdentifier(schema, 'schema'));
  const limit = spec.connectionLimit;
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1)) {
    throw new InvalidOptionError(
      `${path}.connectionLimit must be a whole number, 1 or more.`,
      `${path}.connectionLimit`,
    );
  }
  return Object.freeze({
    kind: 'sync-role',
    name,
    password: spec.password,
    schemas: Object.freeze([...new Set(schemas)]),
    connectionLimit: limit,
  });
}

/** CONNECT on the database the migration runs in, whatever its name. */
function connectGrant(node: SyncRoleNode, grant: boolean): Fragment {
  const statement = grant ? 'GRANT CONNECT ON DATABASE %I TO %I' : 'REVOKE CONNECT ON DATABASE %I FROM %I';
  return sql`DO ${dollarQuoted(sql`BEGIN EXECUTE pg_catalog.format(${literal(statement)}, pg_catalog.current_database(), ${literal(node.name)}); END`)}`;
}

export function renderSyncRole(node: SyncRoleNode): Rendered {
  const role = ident(node.name);
  const limit = node.connectionLimit === undefined ? empty : sql` CONNECTION LIMIT ${integer(node.connectionLimit)}`;
  const password = deferredLiteral({
    deferred: node.password,
    sensitive: true,
    usedFor: `sync role "${node.name}" password`,
    check: (value) => (value === '' ? 'must not be empty.' : undefined),
  });
  return {
    up: [
      // NOINHERIT: a role granted to it later does not silently widen what it can do.
      sql`CREATE ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS${limit} PASSWORD ${password}`,
      // PUBLIC holds CONNECT by default, but a hardened database revokes it.
      connectGrant(node, true),
      ...node.schemas.map((schema) => sql`GRANT USAGE ON SCHEMA ${ident(schema)} TO ${role}`),
    ],
    down: [
      ...node.schemas.toReversed().map((schema) => sql`REVOKE USAGE ON SCHEMA ${ident(schema)} FROM ${role}`),
      connectGrant(node, false),
      sql`DROP ROLE ${role}`,
    ],
  };
}

/** A sync role in the kind registry (src/kinds/registry.ts). */
export const syncRoleKind: KindDefinition<SyncRoleNode> = {
  render: renderSyncRole,
  describe: (node) => `sync role ${node.name}`,
  identity: (node) => `role ${JSON.stringify(node.name)}`,
  step: (node) => `role-${node.name}`,
};
