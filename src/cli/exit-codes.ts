import { syncLinkErrorOf } from 'pg-sync-link';

/**
 * The exit codes of every command, as the README's CLI section documents them:
 * 0 done, 1 findings or differences, 2 the command line is wrong, 3 it could not run.
 */
export const EXIT = {
  /** Done: the SQL printed, the file written, nothing wrong found, both sides equal, the backfill finished. */
  ok: 0,
  /** Findings: the doctor found a warning or an error, verify found differences, backfill stopped before the end. */
  findings: 1,
  /** Usage: an unknown command or option, a missing or extra argument, a value out of range. */
  usage: 2,
  /** Could not run: a file, module, variable, knexfile environment, database, table or column is missing or unusable, or the server failed. */
  cannotRun: 3,
} as const;

/** Bad command-line input: exit code 2, code `USAGE` under --json. */
export class UsageError extends Error {
  readonly code = 'USAGE';
  readonly exitCode = EXIT.usage;
}

/** The command line was fine but the command could not run: exit code 3, code `CANNOT_RUN` under --json. */
export class CannotRunError extends Error {
  readonly code = 'CANNOT_RUN';
  readonly exitCode = EXIT.cannotRun;
}

/** The first line of an error's message: a failure prints one line, never a stack. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (
    text
      .split('\n')
      .find((line) => line.trim() !== '')
      ?.trim() ?? (error instanceof Error ? error.name : 'unknown error')
  );
}

/** Runs a comparison: anything it throws (a table or column it cannot find, a refused connection, a server error) means it could not run. */
export async function explained<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const own = syncLinkErrorOf(error);
    const code = own ? ` [${own.code}]` : '';
    throw new CannotRunError(`${firstLine(error)}${code}`, { cause: error });
  }
}
