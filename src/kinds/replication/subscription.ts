import { InvalidOptionError } from '../../errors.js';
import { isDeferred } from '../../secrets.js';
import { checkArray, checkBoolean, checkObject } from '../../spec/object.js';
import { checkIdentifier, checkQualifiedName } from '../../sql/index.js';
import { conninfoLiteral, type ConninfoPart } from '../fdw/conninfo.js';
import { checkSlotName } from './slot-name.js';
import {
  SSL_MODES,
  type SubscriptionNode,
  type SubscriptionOptions,
  type SubscriptionSetting,
} from './subscription-node.js';

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

export type { SubscriptionNode, SubscriptionOptions } from './subscription-node.js';
export { renderSubscription, subscriptionKind } from './subscription-render.js';
