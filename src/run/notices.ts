import { fieldOf, isRecord } from '../spec/guards.js';
/**
 * A WARNING or NOTICE the server sent while a statement ran (node-postgres' 'notice' event).
 * PostgreSQL reports some requests it did not carry out only this way, so every runner passes
 * them on, and `runMigration` turns the ones that mean "this was not done" into errors.
 */
export interface ServerNotice {
  /** WARNING, NOTICE, INFO, LOG or DEBUG (the server's word for it). */
  readonly severity: string;
  /** The server's message. */
  readonly message: string;
  /** Its SQLSTATE, e.g. `01000` for a plain warning. */
  readonly code?: string;
  /** The server's DETAIL line, when it sent one. */
  readonly detail?: string;
  /** The server's HINT line, when it sent one. */
  readonly hint?: string;
}

/** Subscribes to a connection's notices until the returned function is called. */
export type NoticeSource = (listener: (notice: ServerNotice) => void) => () => void;

interface EmitsNotices {
  on(event: 'notice', listener: (message: unknown) => void): unknown;
  off?(event: 'notice', listener: (message: unknown) => void): unknown;
  removeListener?(event: 'notice', listener: (message: unknown) => void): unknown;
}

function emitsNotices(value: unknown): value is EmitsNotices {
  return typeof fieldOf(value, 'on') === 'function';
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The notices of a node-postgres Client (or a Knex/Umzug connection that is one), if it emits them. */
export function noticesOf(connection: unknown): NoticeSource | undefined {
  if (!emitsNotices(connection)) return undefined;
  const target = connection;
  return (listener) => {
    const handler = (raw: unknown) => {
      const message = isRecord(raw) ? raw : {};
      const notice: ServerNotice = {
        severity: text(message.severity) ?? 'NOTICE',
        message: text(message.message) ?? String(raw),
        ...(text(message.code) ? { code: text(message.code) } : {}),
        ...(text(message.detail) ? { detail: text(message.detail) } : {}),
        ...(text(message.hint) ? { hint: text(message.hint) } : {}),
      };
      listener(notice);
    };
    target.on('notice', handler);
    return () => void (target.off ?? target.removeListener)?.call(target, 'notice', handler);
  };
}

/** `WARNING: message (DETAIL ...) (HINT ...)` on one line, as a log line. */
export function formatNotice(notice: ServerNotice): string {
  return [
    `${notice.severity}: ${notice.message}`,
    notice.detail && `Detail: ${notice.detail}`,
    notice.hint && `Hint: ${notice.hint}`,
  ]
    .filter(Boolean)
    .join(' ');
}

/** What a warning that means "not done" becomes: the error's message and what to run. */
export interface Refusal {
  readonly message: string;
  readonly hint: string;
}

/**
 * The warnings PostgreSQL gives where it did not do what was asked: CREATE or ALTER SUBSCRIPTION
 * naming a publication the publisher does not have (the subscription then receives nothing from
 * it, and rows written before it is refreshed may never be copied).
 */
export function refusalOf(notice: ServerNotice, statement = ''): Refusal | undefined {
  if (notice.severity !== 'WARNING') return undefined;
  const missing = /^publications? (.+) (?:does|do) not exist on the publisher$/.exec(notice.message);
  if (missing) {
    // The subscription's name as this library wrote it into the statement (quoted when needed).
    const name = /(?:CREATE|ALTER) SUBSCRIPTION ((?:"(?:[^"]|"")+")|[^\s"]+)/.exec(statement)?.[1] ?? '...';
    return {
      message: `${notice.message}: this subscription would receive nothing from ${missing[1]}.`,
      hint: `On the publisher, run the migration that creates publication ${missing[1]} (and its replicationSlot) first; then remove this subscription (ALTER SUBSCRIPTION ${name} DISABLE; ALTER SUBSCRIPTION ${name} SET (slot_name = NONE); DROP SUBSCRIPTION ${name};) and run this migration again, or run ALTER SUBSCRIPTION ${name} REFRESH PUBLICATION here.`,
    };
  }
  return undefined;
}

/**
 * What to run when a statement fails in a way PostgreSQL does not explain: DROP SUBSCRIPTION
 * that cannot drop its slot on the publisher (the slot is missing, or the publisher is gone).
 */
export function remedyFor(statement: string, message: string): string | undefined {
  const drop = /^DROP SUBSCRIPTION (.+)$/s.exec(statement.trim());
  if (drop && /could not (drop replication slot|connect to (the )?publisher)/.test(message)) {
    const name = drop[1];
    return `The subscription could not drop its replication slot on the publisher. To remove the subscription without it, run on this server: ALTER SUBSCRIPTION ${name} DISABLE; ALTER SUBSCRIPTION ${name} SET (slot_name = NONE); then run this down again. If the slot still exists on the publisher, drop it there (the replicationSlot migration's down does), or it keeps WAL forever.`;
  }
  return undefined;
}

/** Where notices go when the caller gave no `log` and no `onNotice`: standard error. */
export function defaultNoticeSink(notice: ServerNotice): void {
  console.warn(`pg-sync-link: ${formatNotice(notice)}`);
}
