import { dollarQuoted, formatted, integer, literal, raiseException, sql, type Fragment } from '../sql/index.js';

/**
 * A statement that stops the migration on a server older than `major`, before anything has
 * changed, with a message naming the feature (SQLSTATE 0A000, feature_not_supported).
 * The version of the server is known only when the migration runs, so this is the earliest
 * place to refuse.
 */
export function requireServerVersion(major: number, feature: string): Fragment {
  return sql`DO ${dollarQuoted(sql`
BEGIN
  IF pg_catalog.current_setting('server_version_num')::integer < ${integer(major * 10000)} THEN
    ${raiseException({
      errcode: 'feature_not_supported',
      message: formatted(
        '%s needs PostgreSQL %s or later; this server runs PostgreSQL %s.',
        literal(feature),
        literal(major),
        sql`pg_catalog.current_setting('server_version')`,
      ),
      hint: 'Upgrade the server, or leave the option out for this server.',
    })}
  END IF;
END
`)}`;
}
