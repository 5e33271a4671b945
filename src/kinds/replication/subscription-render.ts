import { InvalidOptionError } from '../../errors.js';
import {
  formatted,
  ident,
  join,
  literal,
  quoteQualifiedName,
  raiseException,
  sql,
  type Fragment,
} from '../../sql/index.js';
import { conninfoLiteral } from '../fdw/conninfo.js';
import type { Rendered } from '../rendered.js';
import type { KindDefinition } from '../kind.js';
import { requireServerVersion } from '../server-version.js';
import type { SubscriptionNode, SubscriptionSetting } from './subscription-node.js';

function settingSql(setting: SubscriptionSetting): Fragment {
  const value = typeof setting.value === 'boolean' ? (setting.value ? sql`true` : sql`false`) : literal(setting.value);
  return sql`${ident(setting.key)} = ${value}`;
}

export function renderSubscription(node: SubscriptionNode): Rendered {
  const guards = [...new Set(node.settings.filter((setting) => setting.since).map((setting) => setting.since!))].map(
    (major) =>
      requireServerVersion(
        major,
        `Subscription option ${node.settings
          .filter((setting) => setting.since === major)
          .map((setting) => `${setting.key} = ${String(setting.value)}`)
          .join(', ')}`,
      ),
  );
  const connection = conninfoLiteral(node.connection, `subscription "${node.name}", connection`);
  const create = sql`CREATE SUBSCRIPTION ${ident(node.name)} CONNECTION ${connection} PUBLICATION ${join(node.publications.map(ident))} WITH (${join(node.settings.map(settingSql))})`;
  return {
    up: [...guards, createChecked(node, create)],
    down: [sql`DROP SUBSCRIPTION ${ident(node.name)}`],
    transactional: false,
  };
}

/** A subscription in the kind registry (src/kinds/registry.ts). */
export const subscriptionKind: KindDefinition<SubscriptionNode> = {
  render: renderSubscription,
  change: (before) => {
    // Dropping it drops its slot, and the new one would find no slot to use.
    throw new InvalidOptionError(
      `subscription "${before.name}" changed between versions; it cannot be changed in place: give the new version a subscription with another name and slot (and the publisher a replicationSlot for it), and leave the old one out.`,
      `subscription "${before.name}"`,
    );
  },
  describe: (node) => `subscription ${node.name}`,
  identity: (node) => `subscription ${JSON.stringify(node.name)}`,
  step: (node) => `subscription-${node.name}`,
};

/**
 * CREATE SUBSCRIPTION and, in the same statement, a check that the publisher sends the tables
 * wanted: PostgreSQL only warns about a publication the publisher lacks and creates a
 * subscription that receives nothing. A failed check undoes the CREATE (one statement).
 * The tag `$pgsl_sub$` cannot occur in the connection string (conninfo.ts refuses it).
 */
function createChecked(node: SubscriptionNode, create: Fragment): Fragment {
  const publications = node.publications.map((name) => `"${name}"`).join(', ');
  const slot = node.slotName;
  const noTables = raiseException({
    errcode: 'object_not_in_prerequisite_state',
    message: `Subscription "${node.name}" would receive no table: publication${node.publications.length === 1 ? '' : 's'} ${publications} ${node.publications.length === 1 ? 'does' : 'do'} not exist on the publisher (${node.publisher}), or publish${node.publications.length === 1 ? 'es' : ''} no table there. Nothing was created.`,
    hint: `Run the publisher's migration first, on ${node.publisher}: publication${node.publications.length === 1 ? '' : 's'} ${publications} and replicationSlot "${slot}"; then this one. For two-way replication, install both sides' publications and slots before either subscription.`,
  });
  const notPublished = raiseException({
    errcode: 'object_not_in_prerequisite_state',
    message: formatted(
      `Subscription "${node.name}" would not receive every expected table: the publisher (${node.publisher}) does not publish %s through ${publications}. Nothing was created.`,
      sql`missing`,
    ),
    hint: 'Add the table to the publication on the publisher (or run the migration that does) first, then this one; or leave it out of expectTables.',
  });
  const expected =
    node.expectTables.length === 0
      ? sql``
      : sql`
  SELECT pg_catalog.string_agg(wanted, ', ') INTO missing FROM pg_catalog.unnest(ARRAY[${join(node.expectTables.map((table) => literal(quoteQualifiedName(table))))}]::text[]) AS wanted
   WHERE pg_catalog.to_regclass(wanted) IS NULL
      OR NOT EXISTS (SELECT FROM pg_catalog.pg_subscription_rel r WHERE r.srsubid = created AND r.srrelid = pg_catalog.to_regclass(wanted));
  IF missing IS NOT NULL THEN
    ${notPublished}
  END IF;`;
  return sql`DO $pgsl_sub$DECLARE created oid; missing text;
BEGIN
  ${create};
  SELECT s.oid INTO created FROM pg_catalog.pg_subscription s
   WHERE s.subname = ${literal(node.name)} AND s.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_subscription_rel r WHERE r.srsubid = created) THEN
    ${noTables}
  END IF;${expected}
END$pgsl_sub$`;
}
