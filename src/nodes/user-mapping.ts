import { InvalidOptionError } from '../errors.js';
import type { Deferred } from '../secrets.js';
import { checkObject } from '../spec/object.js';
import { alterOptionsClause, checkOptions, optionsClause, USER_MAPPING_OPTIONS, type CheckedOption } from '../spec/fdw-options.js';
import { checkIdentifier, ident, sql, type Fragment } from '../sql/index.js';
import type { Rendered } from './rendered.js';

/** Who the mapping is for: the role running the migration, every role, or a named role. */
export type MappingRole = 'CURRENT_USER' | 'CURRENT_ROLE' | 'SESSION_USER' | 'PUBLIC' | { readonly role: string };

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
  readonly sslcert?: string | Deferred;
  readonly sslkey?: string | Deferred;
  readonly sslpassword?: Deferred;
}

export interface UserMappingNode {
  readonly kind: 'user-mapping';
  readonly server: string;
  readonly role: MappingRole;
  readonly options: readonly CheckedOption[];
}

const KEYS = ['server', 'for', 'user', 'password', 'password_required', 'sslcert', 'sslkey', 'sslpassword'] as const;
const SPECIAL_ROLES = ['CURRENT_USER', 'CURRENT_ROLE', 'SESSION_USER', 'PUBLIC'] as const;
// PostgreSQL reserves these role names; "public" written bare would silently mean PUBLIC.
const RESERVED_ROLE_NAMES = ['public', 'none', 'current_user', 'current_role', 'session_user'];

function checkRole(value: unknown, path: string): MappingRole {
  if (value === undefined) return 'CURRENT_USER';
  if (typeof value === 'string') {
    if ((SPECIAL_ROLES as readonly string[]).includes(value)) return value as MappingRole;
    throw new InvalidOptionError(
      `${path}.for must be one of ${SPECIAL_ROLES.join(', ')} or { role: 'name' }, got ${JSON.stringify(value)}.`,
      `${path}.for`,
    );
  }
  const spec = checkObject(value, `${path}.for`, ['role']);
  const role = checkIdentifier(spec.role, 'user mapping role');
  if (RESERVED_ROLE_NAMES.includes(role.toLowerCase())) {
    throw new InvalidOptionError(`${path}.for: "${role}" is a reserved role name; use the string '${role.toUpperCase()}' instead.`, `${path}.for`);
  }
  return Object.freeze({ role });
}

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

export function renderUserMapping(node: UserMappingNode): Rendered {
  const target = sql`${roleSql(node.role)} SERVER ${ident(node.server)}`;
  const path = `user mapping for server "${node.server}"`;
  return {
    up: [sql`CREATE USER MAPPING FOR ${target}${optionsClause(node.options, path)}`],
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
