import { isRecord } from '../spec/guards.js';
/** What a failed statement's error says, read from whatever the driver or runner threw. */
export interface ServerErrorFields {
  /** The message, undefined when the error has none. */
  readonly message: string | undefined;
  /** The SQLSTATE, e.g. `42P01`, when the server gave one. */
  readonly code: string | undefined;
  /** The server's DETAIL line, when not empty. */
  readonly detail: string | undefined;
  /** The server's HINT line, when not empty. */
  readonly hint: string | undefined;
}

/** Reads a node-postgres DatabaseError (or anything thrown) into its message, code, detail and hint. */
export function serverErrorOf(error: unknown): ServerErrorFields {
  const raw: Record<string, unknown> = isRecord(error) ? error : { message: String(error) };
  const nonEmpty = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  return {
    message: raw.message === undefined || raw.message === null ? undefined : String(raw.message),
    code: typeof raw.code === 'string' ? raw.code : undefined,
    detail: nonEmpty(raw.detail),
    hint: nonEmpty(raw.hint),
  };
}
