import { syncLinkErrorOf } from 'pg-sync-link';
import { UsageError } from './usage-error.js';

/** A failure while running (connection refused, a server error): exit code 3, apart from "differences remain" (1). */
export class RunError extends Error {}

/**
 * Runs a comparison: a spec the library refuses (unknown table or column, no key...) is a usage
 * error, anything else that fails is a RunError with the server's message.
 */
export async function explained<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = syncLinkErrorOf(error)?.code;
    if (code === 'INVALID_OPTION' || code === 'INVALID_IDENTIFIER') throw new UsageError(`pg-sync-link: ${(error as Error).message}`);
    throw new RunError(`pg-sync-link: ${error instanceof Error ? error.message : String(error)}`);
  }
}
