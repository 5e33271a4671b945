import { dollarQuoted, formatted, ident, literal, raiseException, sql } from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import type { KindDefinition } from '../kind.js';

/**
 * Connects through a new link once, as the role running the migration, so an unreachable
 * host, a wrong port or dbname, or a refused password fails the migration that made the link,
 * with a message that says what to check, instead of failing the first query days later.
 */
export interface LinkCheckNode {
  /** Tells the node kinds apart. */
  readonly kind: 'link-check';
  /** The foreign server to connect through. */
  readonly server: string;
}

export function linkCheck(server: string): LinkCheckNode {
  return Object.freeze({ kind: 'link-check', server });
}

export function renderLinkCheck(node: LinkCheckNode): Rendered {
  // A temporary foreign table over the remote pg_database (readable by any role): selecting
  // from it opens the connection. It lives in pg_temp and is dropped, so nothing is left.
  const up = sql`DO ${dollarQuoted(sql`
DECLARE
  failure_state text;
  failure_message text;
  failure_detail text;
  failure_hint text;
BEGIN
  CREATE FOREIGN TABLE pg_temp.pg_sync_link_probe (one integer) SERVER ${ident(node.server)} OPTIONS (schema_name 'pg_catalog', table_name 'pg_database');
  PERFORM 1 FROM pg_temp.pg_sync_link_probe LIMIT 1;
  DROP FOREIGN TABLE pg_temp.pg_sync_link_probe;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure_message = MESSAGE_TEXT, failure_detail = PG_EXCEPTION_DETAIL, failure_hint = PG_EXCEPTION_HINT;
  ${raiseException({
    errcode: sql`failure_state`,
    message: formatted(
      'foreign server %I cannot reach its remote database as role %I: %s',
      literal(node.server),
      sql`CURRENT_USER`,
      sql`failure_message`,
    ),
    detail: sql`pg_catalog.concat_ws(' ', failure_detail, '(server options: ' || (SELECT pg_catalog.array_to_string(srvoptions, ', ') FROM pg_catalog.pg_foreign_server WHERE srvname = ${literal(node.server)}) || ')')`,
    // 2F003: postgres_fdw's refusal of a role that is not a superuser, not a connection problem.
    hint: sql`CASE WHEN failure_state = '2F003'
      THEN pg_catalog.concat_ws(' ', NULLIF(failure_hint, ''), 'A role that is not a superuser must connect with a password that the remote server asks for (scram-sha-256 in its pg_hba.conf); see password_required in the pg-sync-link docs (docs/security.md).')
      ELSE 'Check the host, port and dbname of the server and the user and password of the user mapping; the remote server must accept connections from this host (listen_addresses, pg_hba.conf). To create the link without connecting, pass verify: false.'
    END`,
  })}
END
`)}`;
  return { up: [up], down: [] };
}

/** A link check in the kind registry (src/kinds/registry.ts). */
export const linkCheckKind: KindDefinition<LinkCheckNode> = {
  render: renderLinkCheck,
  describe: (node) => `check of ${node.server}`,
  identity: (node) => `check ${JSON.stringify(node.server)}`,
  step: (node) => `link-${node.server}`,
};
