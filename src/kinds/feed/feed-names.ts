import { checkIdentifier, type QualifiedName, type SqlExpression } from '../../sql/index.js';
import { fitFamily } from '../sync/sync-names.js';

// The change feed's node and the names of what it creates, apart from the renderers so the
// feed's pieces (change-feed.ts, feed-prune.ts) and the listener share them without a cycle.

/** A change feed of one table, as built by changeFeed(). */
export interface ChangeFeedNode {
  /** Tells the node kinds apart. */
  readonly kind: 'change-feed';
  /** The table whose changes are published, schema given. */
  readonly table: QualifiedName & {
    /** The schema, always given. */
    readonly schema: string;
  };
  /** Its key columns. */
  readonly key: readonly string[];
  /** The columns a change carries; undefined for all. */
  readonly columns: readonly string[] | undefined;
  /** The NOTIFY channel. */
  readonly channel: string;
  /** Which rows are published: a condition over the row `src`; undefined publishes every row. */
  readonly where: SqlExpression | undefined;
}

/** The objects a change feed creates next to its table (names shortened with a hash when the table name is long). */
export function feedObjects(table: QualifiedName & { readonly schema: string }) {
  return fitFamily([table.name], ([base]) => {
    const name = (suffix: string, what: string) => ({
      schema: table.schema,
      name: checkIdentifier(`${base}__${suffix}`, what),
    });
    return {
      /** Every published change, kept so a listener that was away can catch up. */
      log: name('changes', 'change feed log table'),
      record: name('changes_record', 'change feed trigger function'),
      prune: name('changes_prune', 'change feed prune function'),
      /** One row per named consumer: its position, pending changes and their age. */
      lag: name('changes_lag', 'change feed lag view'),
      /** Where named listeners keep how far they got. */
      cursors: name('changes_cursors', 'change feed cursor table'),
      trigger: 'change_feed',
      /** Refuses TRUNCATE, which would empty the table without a change in the feed. */
      truncateTrigger: 'change_feed_truncate',
    };
  });
}
