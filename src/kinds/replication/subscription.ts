import { InvalidOptionError } from '../../errors.js';
import { isDeferred, type Deferred } from '../../secrets.js';
import { checkArray, checkBoolean, checkObject } from '../../spec/object.js';
import {
  checkIdentifier,
  checkQualifiedName,
  formatted,
  ident,
  join,
  literal,
  quoteQualifiedName,
  raiseException,
  sql,
  type Fragment,
  type QualifiedName,
} from '../../sql/index.js';
import { conninfoLiteral, type ConninfoPart } from '../fdw/conninfo.js';
import type { Rendered } from '../rendered.js';
import type { KindDefinition } from '../kind.js';
import { requireServerVersion } from '../server-version.js';
import { checkSlotName } from './slot-name.js';

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/** What subscription() takes: where the publisher is, which publications, and the subscription's settings. */
export interface SubscriptionOptions {
  /** The subscription's name in this database. */
  readonly name: string;
  /** The publisher, as this server reaches it. */
  readonly host: string | Deferred;
  /** The publisher's port; when left out, libpq's default (normally 5432). */
  readonly port?: number | string | Deferred;
  /** The publisher's database. */
  readonly dbname: string | Deferred;
  /** A role of the publisher with the REPLICATION attribute (and SELECT on the tables, for copyData). */
  readonly user: string | Deferred;
  /** Always deferred: env('VARIABLE') or secret(label, resolver). */
  readonly password?: Deferred;
  /** libpq sslmode for the connection to the publisher: disable, allow, prefer, require, verify-ca or verify-full. */
  readonly sslmode?: (typeof SSL_MODES)[number];
  /** Seconds to wait for the publisher before the migration fails. */
  readonly connectTimeout?: number;
  /** Publications of the publisher to receive. */
  readonly publications: readonly string[];
  /**
   * The slot on the publisher, made there by replicationSlot() before this runs. Default: the
   * subscription's name. Dropping the subscription drops the slot.
   */
  readonly slotName?: string;
  /** Copy the rows the tables hold already (default true). */
  readonly copyData?: boolean;
  /** 'none': skip changes that came to the publisher from another subscription, for two-way replication (PostgreSQL 16+). */
  readonly origin?: 'none' | 'any';
  /** Start receiving at once (default true). */
  readonly enabled?: boolean;
  /** Exchange data in binary format (PostgreSQL's own default is false). */
  readonly binary?: boolean;
  /** Stream large transactions before they commit; 'parallel' applies them in parallel (PostgreSQL 16+). */
  readonly streaming?: boolean | 'parallel';
  /** Disable the subscription on an apply error instead of retrying forever (PostgreSQL 15+). */
  readonly disableOnError?: boolean;
  /**
   * Tables that must arrive through these publications: the migration fails, creating nothing,
   * when the publisher does not publish one of them. Default: none named, but a subscription
   * that would receive no table at all always fails.
   */
  readonly expectTables?: readonly (string | QualifiedName)[];
}

/** A subscription option as written in WITH (...), and the oldest major that knows it. */
interface SubscriptionSetting {
  /** The option's name, as in WITH (...). */
  readonly key: string;
  /** Its value. */
  readonly value: string | boolean;
  /** The oldest PostgreSQL major that knows it. */
  readonly since?: number;
}

/** A checked subscription, as subscription() builds it. */
export interface SubscriptionNode {
  /** Tells the node kinds apart. */
  readonly kind: 'subscription';
  /** The subscription's name. */
  readonly name: string;
  /** The connection to the publisher, as libpq keywords. */
  readonly connection: readonly ConninfoPart[];
  /** The publications received. */
  readonly publications: readonly string[];
  /** The slot on the publisher. */
  readonly slotName: string;
  /** The WITH (...) options. */
  readonly settings: readonly SubscriptionSetting[];
  /** Where the publisher is, for messages: `dbname legacy on host legacy.internal` (labels for deferred values). */
  readonly publisher: string;
  /** Tables the publisher must send (expectTables); the migration fails when one is missing. */
  readonly expectTables: readonly QualifiedName[];
}

const KEYS = [
  'name',
  'host',
  'port',
  'dbname',
  'user',
  'password',
  'sslmode',
  'connectTimeout',
  'publications',
  'slotName',
  'copyData',
  'origin',
  'enabled',
  'binary',
  'streaming',
  'disableOnError',
  'expectTables',
] as const;

function connectionParts(spec: Record<string, unknown>, path: string): ConninfoPart[] {
  const parts: ConninfoPart[] = [];
  for (const key of ['host', 'port', 'dbname', 'user'] as const) {
    const value = spec[key];
    if (value === undefined) {
      if (key === 'port') continue;
      throw new InvalidOptionError(
        `${path} needs ${key}: the publisher's ${key === 'host' ? 'host name or address' : key === 'dbname' ? 'database name' : 'role to connect as'}.`,
        `${path}.${key}`,
      );
    }
    const text = key === 'port' && typeof value === 'number' ? String(value) : value;
    if (typeof text !== 'string' && !isDeferred(text))
      throw new InvalidOptionError(
        `${path}.${key} must be a string or env()/secret(), got ${JSON.stringify(value)}.`,
        `${path}.${key}`,
      );
    parts.push({ key, value: text });
  }
  if (spec.password !== undefined) {
    if (!isDeferred(spec.password)) {
      throw new InvalidOptionError(
        `${path}.password must be deferred, env('VARIABLE') or secret(label, resolver), so it is never written into a migration.`,
        `${path}.password`,
      );
    }
    parts.push({ key: 'password', value: spec.password, secret: true });
  }
  if (spec.sslmode !== undefined) {
    if (!SSL_MODES.includes(spec.sslmode as (typeof SSL_MODES)[number]))
      throw new InvalidOptionError(`${path}.sslmode must be one of ${SSL_MODES.join(', ')}.`, `${path}.sslmode`);
    parts.push({ key: 'sslmode', value: spec.sslmode as string });
  }
  if (spec.connectTimeout !== undefined) {
    if (!Number.isSafeInteger(spec.connectTimeout) || (spec.connectTimeout as number) < 1)
      throw new InvalidOptionError(
        `${path}.connectTimeout must be a whole number of seconds, at least 1.`,
        `${path}.connectTimeout`,
      );
    parts.push({ key: 'connect_timeout', value: String(spec.connectTimeout) });
  }
  return parts.map((part) => Object.freeze(part));
}

function settingsOf(spec: Record<string, unknown>, path: string, slotName: string): SubscriptionSetting[] {
  const settings: SubscriptionSetting[] = [
    { key: 'create_slot', value: false },
    { key: 'slot_name', value: slotName },
  ];
  const flag = (option: string, key: string, since?: number) => {
    const value = checkBoolean(spec[option], `${path}.${option}`);
    if (value !== undefined) settings.push({ key, value, ...(since ? { since } : {}) });
  };
  settings.push({ key: 'copy_data', value: checkBoolean(spec.copyData, `${path}.copyData`) ?? true });
  if (spec.origin !== undefined) {
    if (spec.origin !== 'none' && spec.origin !== 'any')
      throw new InvalidOptionError(`${path}.origin must be 'none' or 'any'.`, `${path}.origin`);
    settings.push({ key: 'origin', value: spec.origin, since: 16 });
  }
  flag('enabled', 'enabled');
  flag('binary', 'binary');
  if (spec.streaming !== undefined) {
    if (spec.streaming !== 'parallel' && typeof spec.streaming !== 'boolean')
      throw new InvalidOptionError(`${path}.streaming must be true, false or 'parallel'.`, `${path}.streaming`);
    settings.push({ key: 'streaming', value: spec.streaming, ...(spec.streaming === 'parallel' ? { since: 16 } : {}) });
  }
  flag('disableOnError', 'disable_on_error', 15);
  return settings.map((setting) => Object.freeze(setting));
}

/**
 * A subscription on the receiving server to publications of another one.
 *
 * It connects to the publisher when it is created, so a wrong host, port or password fails
 * the migration and nothing is created; it does not create the replication slot (the
 * publisher's replicationSlot() does): creating a slot needs a statement PostgreSQL refuses
 * inside a function or transaction, and only inside one (a DO block built from a bound
 * setting) can the password stay out of every statement's text. Down drops the subscription
 * and, through its stored connection, its slot on the publisher; DROP SUBSCRIPTION cannot
 * run in a transaction, so the migration is not transactional.
 *
 * @example
 * subscription({ name: 'app_products', host: 'legacy.internal', dbname: 'legacy', user: 'replicator', password: env('REPL_PASSWORD'), publications: ['products_pub'] })
 * // CREATE SUBSCRIPTION app_products CONNECTION '[redacted connection ...]' PUBLICATION products_pub
 * //   WITH (create_slot = false, slot_name = 'app_products', copy_data = true)
 */
export function subscription(input: SubscriptionOptions): SubscriptionNode {
  const spec = checkObject(input, 'subscription', KEYS);
  const name = checkIdentifier(spec.name, 'subscription');
  const path = `subscription "${name}"`;
  const connection = connectionParts(spec, path);
  // Values known now are checked now (port range, empty values); deferred ones when resolved.
  conninfoLiteral(connection, `${path}, connection`);
  const publications = checkArray(spec.publications ?? [], `${path}.publications`).map((value) =>
    checkIdentifier(value, 'publication'),
  );
  if (publications.length === 0)
    throw new InvalidOptionError(
      `${path} needs publications: the names of the publisher's publications to receive.`,
      `${path}.publications`,
    );
  if (spec.slotName === undefined && !/^[a-z0-9_]{1,63}$/.test(name)) {
    throw new InvalidOptionError(
      `${path}: its name cannot be a replication slot name (lower-case letters, digits, _); give slotName.`,
      `${path}.slotName`,
    );
  }
  const slotName = checkSlotName(spec.slotName ?? name, `${path}.slotName`);
  const expectTables = checkArray(spec.expectTables ?? [], `${path}.expectTables`).map((table) =>
    Object.freeze(checkQualifiedName(table, 'expected table')),
  );
  const shown = (key: string) => {
    const part = connection.find((candidate) => candidate.key === key);
    return part === undefined ? undefined : typeof part.value === 'string' ? part.value : part.value.label;
  };
  return Object.freeze({
    kind: 'subscription',
    name,
    connection: Object.freeze(connection),
    publications: Object.freeze([...new Set(publications)]),
    slotName,
    settings: Object.freeze(settingsOf(spec, path, slotName)),
    publisher: `database ${shown('dbname')} on host ${shown('host')}${shown('port') ? ` port ${shown('port')}` : ''}`,
    expectTables: Object.freeze(expectTables),
  });
}

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
