import { isOneOf } from '../../spec/guards.js';
import { InvalidOptionError } from '../../errors.js';
import type { Deferred } from '../../secrets.js';
import { checkObject } from '../../spec/object.js';
import {
  alterOptionsClause,
  checkOptions,
  optionsClause,
  USER_MAPPING_OPTIONS,
  type CheckedOption,
} from '../../spec/fdw-options.js';
import {
  checkIdentifier,
  dollarQuoted,
  formatted,
  ident,
  literal,
  raiseException,
  sql,
  type Fragment,
} from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import type { KindDefinition } from '../kind.js';

/** Who the mapping is for: the role running the migration, every role, or a named role. */
export type MappingRole =
  | 'CURRENT_USER'
  | 'CURRENT_ROLE'
  | 'SESSION_USER'
  | 'PUBLIC'
  | {
      /** A named local role. */
      readonly role: string;
    };

/** What userMapping() takes: which local role connects to the foreign server as which remote role. */
export interface UserMappingOptions {
  /** The local foreign server's name. */
  readonly server: string;
  /** Defaults to CURRENT_USER: the role that runs the migration. */
  readonly for?: MappingRole;
  /** The remote role to connect as. */
  readonly user?: string | Deferred;
  /** Always deferred: env('VARIABLE') or secret(label, resolver). */
  readonly password?: Deferred;
  /** Superuser only: let a non-superuser connect without a password (false). */
  readonly password_required?: boolean;
  /** File name of the client certificate postgres_fdw presents to the remote (libpq sslcert). */
  readonly sslcert?: string | Deferred;
  /** File name of the client certificate's key (libpq sslkey). */
  readonly sslkey?: string | Deferred;
  /** The password of that key (libpq sslpassword); always deferred: env('VARIABLE') or secret(label, resolver). */
  readonly sslpassword?: Deferred;
  /** PostgreSQL 18: connect with the SCRAM keys of the local login (which must be SCRAM too) instead of a stored password. */
  readonly use_scram_passthrough?: boolean;
}

/** A checked user mapping, as userMapping() builds it. */
export interface UserMappingNode {
  /** Tells the node kinds apart. */
  readonly kind: 'user-mapping';
  /** The local foreign server's name. */
  readonly server: string;
  /** The local role the mapping is for. */
  readonly role: MappingRole;
  /** Its options (user, password...), checked; deferred values are resolved when the migration runs. */
  readonly options: readonly CheckedOption[];
}

const KEYS = [
  'server',
  'for',
  'user',
  'password',
  'password_required',
  'sslcert',
  'sslkey',
  'sslpassword',
  'use_scram_passthrough',
] as const;
const SPECIAL_ROLES = ['CURRENT_USER', 'CURRENT_ROLE', 'SESSION_USER', 'PUBLIC'] as const;
// PostgreSQL reserves these role names; "public" written bare would silently mean PUBLIC.
const RESERVED_ROLE_NAMES = ['public', 'none', 'current_user', 'current_role', 'session_user'];

function checkRole(value: unknown, path: string): MappingRole {
  if (value === undefined) return 'CURRENT_USER';
  if (typeof value === 'string') {
    if (isOneOf(SPECIAL_ROLES, value)) return value;
    throw new InvalidOptionError(
      `${path}.for must be one of ${SPECIAL_ROLES.join(', ')} or { role: 'name' }, got ${JSON.stringify(value)}.`,
      `${path}.for`,
    );
  }
  const spec = checkObject(value, `${path}.for`, ['role']);
  const role = checkIdentifier(spec.role, 'user mapping role');
  if (RESERVED_ROLE_NAMES.includes(role.toLowerCase())) {
    throw new InvalidOptionError(
      `${path}.for: "${role}" is a reserved role name; use the string '${role.toUpperCase()}' instead.`,
      `${path}.for`,
    );
  }
  return Object.freeze({ role });
}

/**
 * A user mapping: the remote role a local role connects as through a foreign server. For a role
 * that is not a superuser, a mapping without a password is refused when it is created (a check
 * runs first), since postgres_fdw would refuse every connection through it.
 *
 * @example
 * userMapping({ server: 'legacy', user: env('LEGACY_DB_USER'), password: env('LEGACY_DB_PASSWORD') })
 * // CREATE USER MAPPING FOR CURRENT_USER SERVER legacy OPTIONS ("user" '[env:LEGACY_DB_USER]', password '[redacted env:LEGACY_DB_PASSWORD]');
 * // down: DROP USER MAPPING FOR CURRENT_USER SERVER legacy;
 */
export function userMapping(input: UserMappingOptions): UserMappingNode {
  const spec = checkObject(input, 'userMapping', KEYS);
  const server = checkIdentifier(spec.server, 'foreign server');
  const path = `user mapping for server "${server}"`;
  const role = checkRole(spec.for, path);
  const { server: _server, for: _for, ...optionValues } = spec;
  const options = checkOptions(USER_MAPPING_OPTIONS, optionValues, path);
  return Object.freeze({ kind: 'user-mapping', server, role, options: Object.freeze(options) });
}

function roleSql(role: MappingRole): Fragment {
  switch (role) {
    case 'CURRENT_USER':
      return sql`CURRENT_USER`;
    case 'CURRENT_ROLE':
      return sql`CURRENT_ROLE`;
    case 'SESSION_USER':
      return sql`SESSION_USER`;
    case 'PUBLIC':
      return sql`PUBLIC`;
    default:
      return ident(role.role);
  }
}

/**
 * postgres_fdw refuses to connect for a role that is not a superuser unless the mapping has a
 * password (SQLSTATE 2F003, "password is required", at the first query). Such a mapping is
 * refused when it is created instead, with what to do. PUBLIC is left alone: whether it works
 * depends on who uses it.
 */
function passwordCheck(node: UserMappingNode): Fragment[] {
  const names = node.options.map((option) => option.name);
  const notRequired = node.options.some(
    (option) =>
      (option.name === 'password_required' && option.value === 'false') ||
      (option.name === 'use_scram_passthrough' && option.value === 'true'),
  );
  if (node.role === 'PUBLIC' || names.includes('password') || notRequired) return [];
  const role = typeof node.role === 'string' ? roleSql(node.role) : literal(node.role.role);
  return [
    sql`DO ${dollarQuoted(sql`
BEGIN
  IF NOT coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = ${role}), true) THEN
    ${raiseException({
      errcode: '2F003',
      message: formatted(
        'pg-sync-link: the user mapping for %I on server %I has no password, and %I is not a superuser: postgres_fdw would refuse every connection through it ("password is required")',
        role,
        literal(node.server),
        role,
      ),
      hint: "Give the mapping a password, env('VARIABLE'), of the remote role (the remote server must ask for it: scram-sha-256 in pg_hba.conf). Only a superuser may set password_required: false instead, for a remote that authenticates another way (certificate, peer), and only if every local user of this mapping may act as the remote role.",
    })}
  END IF;
END
`)}`,
  ];
}

export function renderUserMapping(node: UserMappingNode): Rendered {
  const target = sql`${roleSql(node.role)} SERVER ${ident(node.server)}`;
  const path = `user mapping for server "${node.server}"`;
  return {
    up: [...passwordCheck(node), sql`CREATE USER MAPPING FOR ${target}${optionsClause(node.options, path)}`],
    down: [sql`DROP USER MAPPING FOR ${target}`],
  };
}

/** A mapping whose options changed is altered in place. */
export function renderUserMappingChange(before: UserMappingNode, after: UserMappingNode): Rendered {
  const target = sql`${roleSql(after.role)} SERVER ${ident(after.server)}`;
  const path = `user mapping for server "${after.server}"`;
  const forward = alterOptionsClause(before.options, after.options, path);
  const backward = alterOptionsClause(after.options, before.options, path);
  return {
    up: forward ? [sql`ALTER USER MAPPING FOR ${target}${forward}`] : [],
    down: backward ? [sql`ALTER USER MAPPING FOR ${target}${backward}`] : [],
  };
}

/** A user mapping in the kind registry (src/kinds/registry.ts). */
export const userMappingKind: KindDefinition<UserMappingNode> = {
  render: renderUserMapping,
  change: renderUserMappingChange,
  describe: (node) => `user mapping ${typeof node.role === 'string' ? node.role : node.role.role} on ${node.server}`,
  identity: (node) => `mapping ${JSON.stringify([node.server, node.role])}`,
  step: (node) => `link-${node.server}`,
};
