import { InvalidOptionError } from '../errors.js';

/**
 * How far a change-feed consumer got: every change whose (xid, seq) is at or before it was
 * delivered, and no change can later appear at or before it (its transaction had ended).
 */
export interface FeedPosition {
  /** A transaction id (xid8) as text. */
  readonly xid: string;
  /** A log sequence number (bigint) as text. */
  readonly seq: string;
}

const WHOLE = /^\d{1,20}$/;

export function positionText(value: FeedPosition): FeedPosition {
  if (typeof value !== 'object' || value === null || !WHOLE.test(String(value.xid)) || !WHOLE.test(String(value.seq))) {
    throw new InvalidOptionError(
      `from must be 'now', 'beginning' or a position { xid, seq } of whole numbers, got ${JSON.stringify(value)}.`,
      'from',
    );
  }
  return { xid: String(value.xid), seq: String(value.seq) };
}

/** True when `a` comes after `b` in (xid, seq) order. */
export function isAfter(a: FeedPosition, b: FeedPosition): boolean {
  const [ax, bx] = [BigInt(a.xid), BigInt(b.xid)];
  return ax !== bx ? ax > bx : BigInt(a.seq) > BigInt(b.seq);
}

export function laterOf(a: FeedPosition, b: FeedPosition): FeedPosition {
  return isAfter(a, b) ? a : b;
}
