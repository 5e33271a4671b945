import { InvalidOptionError } from '../../errors.js';
import { checkObject } from '../../spec/object.js';
import { checkIdentifier } from '../../sql/index.js';
import type { SyncColumn } from './sync-columns.js';

/**
 * How a two-way outbox settles a key that both sides changed between drains (a conflict). Give
 * both sides the same policy; each names itself with `thisSide` and the other side by the name
 * of its link (`server`), so the policy's text can be the same in both migrations.
 *
 * - `{ thisSide: 'app', latest: 'updated_at', ties: 'legacy' }`: the version whose `updated_at`
 *   is greater wins (a value beats NULL); equal values go to `ties`. A delete has no value: a
 *   change beats a delete (the row comes back), so no write is lost to a clock.
 * - `{ thisSide: 'app', winner: 'legacy' }`: legacy's version always wins, a delete included.
 */
export type ConflictPolicyOptions =
  | {
      /** This database's name in the policy; the other side's name is the sync's `server`. */
      readonly thisSide: string;
      /** A local column the sync sends (e.g. `updated_at`): the version with the greater value wins. */
      readonly latest: string;
      /** The side (`thisSide` or the sync's `server`) whose version wins when both have the same `latest` value. */
      readonly ties: string;
    }
  | {
      /** This database's name in the policy; the other side's name is the sync's `server`. */
      readonly thisSide: string;
      /** The side (`thisSide` or the sync's `server`) whose version always wins. */
      readonly winner: string;
    };

/** A checked conflict policy, as seen from this side. */
export interface ConflictPolicy {
  /** This database's name. */
  readonly thisSide: string;
  /** The other database's name: the sync's server. */
  readonly otherSide: string;
  /** `latest`: by a column, ties to `winner`; `winner`: `winner` always wins. */
  readonly rule: 'latest' | 'winner';
  /** The local column compared by `latest`; undefined for `winner`. */
  readonly column: string | undefined;
  /** The side that wins ties (`latest`) or always (`winner`). */
  readonly winner: string;
  /** The policy in words, as the conflict log records it: `latest updated_at, ties to legacy`. */
  readonly text: string;
}

/**
 * Checks a two-way outbox's `conflicts` option before any SQL exists: delivery must be outbox,
 * the other side's writes must be recognised (`ignoreWritesBy`), sides are named exactly, and
 * `latest` names a local column the sync sends. `path` names the sync in every message.
 */
export function checkConflictPolicy(
  value: unknown,
  context: {
    readonly path: string;
    readonly server: string;
    readonly delivery: string;
    readonly ignoresWrites: boolean;
    readonly columns: readonly SyncColumn[];
  },
): ConflictPolicy | undefined {
  if (value === undefined) return undefined;
  const { path, server } = context;
  const at = `${path}.conflicts`;
  if (context.delivery !== 'outbox') {
    throw new InvalidOptionError(
      `${path}: conflicts apply to a two-way outbox; add delivery: 'outbox' (write-through writes both sides at once, so it has no conflicts to settle).`,
      at,
    );
  }
  if (!context.ignoresWrites) {
    throw new InvalidOptionError(
      `${path}: conflicts needs ignoreWritesBy (the role the other side's sync connects here as, or the application_name its server sets): conflicts are found among its writes, and without it every delivered row would be sent back.`,
      `${path}.ignoreWritesBy`,
    );
  }
  const spec = checkObject(value, at, ['thisSide', 'latest', 'ties', 'winner']);
  if (spec.thisSide === undefined) {
    throw new InvalidOptionError(
      `${at}.thisSide is required: this database's name in the policy (the other side is "${server}", the link's name).`,
      `${at}.thisSide`,
    );
  }
  const thisSide = checkIdentifier(spec.thisSide, 'conflicts.thisSide');
  if (thisSide === server) {
    throw new InvalidOptionError(
      `${at}.thisSide is "${thisSide}", the name of the other side (the link): name this database differently.`,
      `${at}.thisSide`,
    );
  }
  const side = (option: 'ties' | 'winner'): string => {
    const name = spec[option];
    if (name !== thisSide && name !== server) {
      throw new InvalidOptionError(
        `${at}.${option} must name a side: "${thisSide}" (this side) or "${server}" (the other side), got ${JSON.stringify(name)}.`,
        `${at}.${option}`,
      );
    }
    return name;
  };
  if ((spec.latest === undefined) === (spec.winner === undefined)) {
    throw new InvalidOptionError(
      `${at} takes either { latest: '<column>', ties: '<side>' } (the newer version wins) or { winner: '<side>' } (one side always wins).`,
      at,
    );
  }
  if (spec.winner !== undefined) {
    if (spec.ties !== undefined) {
      throw new InvalidOptionError(`${at}: ties goes with latest; with winner, every conflict goes to the winner.`, at);
    }
    const winner = side('winner');
    return Object.freeze({
      thisSide,
      otherSide: server,
      rule: 'winner',
      column: undefined,
      winner,
      text: `${winner} wins`,
    });
  }
  const sent = context.columns.flatMap((column) => ('column' in column.source ? [column.source.column] : []));
  if (typeof spec.latest !== 'string' || !sent.includes(spec.latest)) {
    throw new InvalidOptionError(
      `${at}.latest must name a local column this sync sends (one of ${sent.join(', ')}), got ${JSON.stringify(spec.latest)}.`,
      `${at}.latest`,
    );
  }
  if (spec.ties === undefined) {
    throw new InvalidOptionError(
      `${at}.ties is required with latest: the side whose version wins when both have the same ${spec.latest}, "${thisSide}" or "${server}".`,
      `${at}.ties`,
    );
  }
  const ties = side('ties');
  return Object.freeze({
    thisSide,
    otherSide: server,
    rule: 'latest',
    column: spec.latest,
    winner: ties,
    text: `latest ${spec.latest}, ties to ${ties}`,
  });
}
