import type { SqlExecutor } from '../run/execute.js';
import { rows } from '../run/rows.js';

// What the doctor reads from a database's catalog (src/doctor/inventory.ts reads it).

export type Query = <T>(text: string, values?: readonly unknown[]) => Promise<T[]>;

/** Rows of a query; values may be arrays or numbers too, which node-postgres binds as such. */
export function queryOf(execute: SqlExecutor): Query {
  return <T>(text: string, values: readonly unknown[] = []) => rows<T>(execute, text, values);
}

/** Leaves out the temporary schemas of this and other sessions (a catalog query's WHERE part; n is pg_namespace). */
export const NOT_TEMP = `n.oid <> pg_catalog.pg_my_temp_schema() AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)`;

export interface ServerInfo {
  readonly name: string;
  readonly wrapper: string;
  readonly options: ReadonlyMap<string, string>;
}

export interface MappingInfo {
  readonly server: string;
  /** `null` for the PUBLIC mapping. */
  readonly role: string | null;
  /** Passwords this role may read (its own mapping, or as the server's owner): scrubbed from messages. */
  readonly secrets: readonly string[];
  /** The remote role it connects as, when this role may read the mapping's options. */
  readonly remoteUser: string | undefined;
}

export interface ForeignColumn {
  readonly name: string;
  readonly remoteName: string;
  readonly typeOid: number;
  readonly typmod: number;
  readonly type: string;
}

export interface ForeignTableInfo {
  readonly schema: string;
  readonly name: string;
  readonly server: string;
  readonly remote: { readonly schema: string; readonly name: string };
  readonly options: ReadonlyMap<string, string>;
  readonly columns: readonly ForeignColumn[];
}

export interface SyncTriggerInfo {
  readonly schema: string;
  readonly table: string;
  readonly server: string;
  readonly trigger: string;
  /** pg_trigger.tgenabled: O (origin and local), A (always), R (replica only), D (disabled). */
  readonly enabled: string;
  readonly function: string;
  readonly owner: string;
  readonly securityDefiner: boolean;
}

export interface SharedIdBorrower {
  readonly schema: string;
  readonly function: string;
  readonly owner: string;
  readonly securityDefiner: boolean;
  readonly server: string;
  readonly source: string;
}

/** What a sequence does for shared ids: the column's own (per-row, capped, interleaved), or block bookkeeping. */
export type SequenceKind = 'per-row' | 'capped' | 'interleaved' | 'blocks' | 'cache';

export interface SequenceUse {
  readonly sequence: string;
  readonly kind: SequenceKind;
  /** What the sequence does for shared ids, for the message. */
  readonly role: string;
  /** The column it gives ids to (a regclass text and a column name), for the column's own sequences. */
  readonly column: { readonly table: string; readonly name: string } | undefined;
  /** Its data type: smallint, integer or bigint. */
  readonly dataType: string;
  readonly min: bigint;
  readonly max: bigint;
  readonly increment: bigint;
  readonly start: bigint;
  /** null when nextval was never called (or the role may not read it). */
  readonly last: bigint | null;
  readonly readable: boolean;
}

/** A receiving side's endpoint view (named by syncEndpoint: <table>__sync_upsert_<hash> or __sync_delete_<hash>). */
export interface EndpointView {
  readonly schema: string;
  readonly name: string;
  readonly rule: 'sync_upsert' | 'sync_delete';
  /** Its INSTEAD rule is there and enabled: without it an insert into the view fails. */
  readonly ruleWorks: boolean;
}

export interface Inventory {
  readonly version: string;
  readonly versionNum: number;
  readonly currentUser: string;
  readonly fdw: {
    readonly available: boolean;
    readonly defaultVersion: string | null;
    readonly installedVersion: string | null;
  };
  readonly servers: readonly ServerInfo[];
  readonly mappings: readonly MappingInfo[];
  readonly foreignTables: readonly ForeignTableInfo[];
  readonly syncTriggers: readonly SyncTriggerInfo[];
  readonly borrowers: readonly SharedIdBorrower[];
  readonly sequences: readonly SequenceUse[];
  readonly endpoints: readonly EndpointView[];
  readonly publications: number;
  readonly subscriptions: number;
  /** Subscriptions of this database with origin = none (two-way replication). */
  readonly subscriptionsOriginNone: number;
}
