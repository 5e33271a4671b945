import { env, fdwLink, type FdwLink, type FdwLinkOptions } from '../../src/index.js';
import type { PgServer } from './server.js';

/**
 * A link to `database` on `server`, connecting as the server's own user, whose password is put
 * in the environment variable `passwordVariable` (a link never holds a password itself).
 */
export function linkTo(
  server: PgServer,
  database: string,
  passwordVariable: string,
  options: Partial<FdwLinkOptions> & { name?: string } = {},
): FdwLink {
  process.env[passwordVariable] = server.password;
  return fdwLink({
    name: 'legacy',
    host: server.peerHost,
    port: server.peerPort,
    dbname: database,
    userMappings: [{ user: server.user, password: env(passwordVariable) }],
    ...options,
  });
}
