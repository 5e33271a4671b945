/** A throwaway PostgreSQL server for tests, with one database ready to use. */
export interface TestServer {
  /** The server's name, as given to the function that started it. */
  readonly name: string;
  /** Where this process connects. */
  readonly host: string;
  /** The port this process connects to. */
  readonly port: number;
  /** Where the other server of a pair connects (postgres_fdw): differs in containers. */
  readonly peerHost: string;
  /** The port the other server of a pair connects to. */
  readonly peerPort: number;
  /** A superuser to connect as. */
  readonly user: string;
  /** Its password. */
  readonly password: string;
  /** The database made ready for the test. */
  readonly database: string;
  /** postgres://user:password@host:port/database */
  readonly url: string;
  /** The PostgreSQL major version, e.g. 18. */
  readonly major: number;
  /** Stop and start the server again (same data, same port), e.g. to test "the other side is down". */
  stop(): Promise<void>;
  /** Start it again after stop(). */
  start(): Promise<void>;
  /**
   * What the server has written to its log so far, for servers this process started
   * (embedded): e.g. to check that a secret never reaches the log with log_statement = 'all'.
   */
  readonly log?: () => string;
  /** Stop it for good and delete its data. */
  dispose(): Promise<void>;
}

export function urlOf(server: Pick<TestServer, 'user' | 'password' | 'host' | 'port'>, database: string): string {
  return `postgres://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@${server.host}:${server.port}/${encodeURIComponent(database)}`;
}
