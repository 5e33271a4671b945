import type { Deferred } from '../../secrets.js';
import type { QualifiedName } from '../../sql/index.js';
import type { ConninfoPart } from '../fdw/conninfo.js';

/** The sslmode values libpq takes for the connection to the publisher. */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

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
export interface SubscriptionSetting {
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
