import { fieldOf } from '../spec/guards.js';
import { InvalidOptionError } from '../errors.js';
import type { FdwLink } from '../link.js';
import {
  allTransactional,
  describeNode,
  isSyncNode,
  renderNode,
  type Rendered,
  type SyncNode,
} from '../kinds/index.js';
import { previewSql, type Fragment } from '../sql/index.js';

/** Anything a migration can be built from: nodes, links, or lists of them. */
export type Part = SyncNode | FdwLink | readonly Part[];

/**
 * One reversible step: `down` undoes `up` exactly, in reverse order. It is computed when the
 * migration is built, so a step that cannot be reversed is refused then, not at rollback.
 */
export interface Migration {
  /** Its name, unique in a set: what the runners record as applied. */
  readonly id: string;
  /** The statements that apply it, in order. */
  readonly up: readonly Fragment[];
  /** The statements that undo it, in order. */
  readonly down: readonly Fragment[];
  /** False for statements PostgreSQL refuses inside a transaction block. */
  readonly transactional: boolean;
}

function isLink(value: unknown): value is FdwLink {
  return fieldOf(value, 'kind') === 'fdw-link';
}

/** The nodes of the parts in order; a node given twice (a shared extension) counts once. */
export function flattenParts(parts: readonly Part[]): readonly SyncNode[] {
  const nodes: SyncNode[] = [];
  const visit = (part: unknown, path: string): void => {
    if (Array.isArray(part)) {
      for (const [index, inner] of part.entries()) visit(inner, `${path}[${index}]`);
    } else if (isLink(part)) {
      for (const node of part.nodes) visit(node, path);
    } else if (isSyncNode(part)) {
      if (!nodes.includes(part)) nodes.push(part);
    } else {
      throw new InvalidOptionError(
        `${path} is not something a migration can be built from; pass links and nodes made by fdwLink(), foreignTable(), importForeignSchema()...`,
        path,
      );
    }
  };
  for (const [index, part] of parts.entries()) visit(part, `part ${index + 1}`);
  return nodes;
}

/**
 * One reversible migration from links and nodes: each part's up in order, each part's down in
 * reverse order. Refuses an empty id and an empty migration. The runner adapters
 * (`knexMigration`, `kyselyMigration`, `umzugMigration`) and `applySyncLink` run it.
 *
 * @example
 * const migration = buildMigration('legacy server', foreignServer({ name: 'legacy', host: 'db.internal', dbname: 'legacy' }));
 * previewMigration(migration);
 * // CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db.internal', dbname 'legacy');
 * previewMigration(migration, 'down');
 * // DROP SERVER legacy;
 */
export function buildMigration(id: string, ...parts: Part[]): Migration {
  if (typeof id !== 'string' || id.trim() === '') {
    throw new InvalidOptionError('A migration needs a non-empty id.', 'id');
  }
  const nodes = flattenParts(parts);
  if (nodes.length === 0) throw new InvalidOptionError(`Migration "${id}" has nothing in it.`, id);
  return migrationFromSteps(id, nodes.map(renderNode), nodes);
}

/** A migration that runs each step's up in order, and each step's down in reverse order. */
export function migrationFromSteps(id: string, steps: readonly Rendered[], nodes?: readonly SyncNode[]): Migration {
  const migration = {
    id,
    up: Object.freeze(steps.flatMap((step) => step.up)),
    down: Object.freeze(steps.toReversed().flatMap((step) => step.down)),
    transactional: allTransactional(steps),
  };
  // Kept out of sight (not enumerable) under a registry symbol, so that a migration file loaded
  // through another copy of the package still says what it installs.
  if (nodes) Object.defineProperty(migration, NODES, { value: Object.freeze([...nodes]) });
  return Object.freeze(migration);
}

const NODES = Symbol.for('pg-sync-link.migration-nodes');

/**
 * The links' and nodes' parts a migration was built from (buildMigration, planMigrations, the
 * runners' helpers), e.g. to find the syncs a migration file installs; empty for one made otherwise.
 */
export function migrationNodes(migration: Migration): readonly SyncNode[] {
  return ((migration as unknown as Record<symbol, unknown>)[NODES] as readonly SyncNode[] | undefined) ?? [];
}

/** The SQL a migration runs in one direction, secrets redacted: for review by a person. */
export function previewMigration(migration: Migration, direction: 'up' | 'down' = 'up'): string {
  return migration[direction].map((statement) => `${previewSql(statement)};`).join('\n\n');
}

/**
 * True for a built migration (anything with id, up, down and transactional), as buildMigration() and planMigrations() make them.
 */
export function isMigration(value: unknown): value is Migration {
  return (
    typeof value === 'object' &&
    value !== null &&
    'id' in value &&
    'up' in value &&
    'down' in value &&
    'transactional' in value
  );
}

/**
 * One migration from what a runner adapter is given: a migration built already, or links and
 * nodes, named after what they create (`server legacy, foreign table legacy_products`).
 */
export function migrationOf(parts: readonly unknown[]): Migration {
  if (parts.length === 1 && isMigration(parts[0])) return parts[0];
  // What a runner adapter was given in place of a migration: links and nodes, checked as they are planned.
  const nodes = parts as Part[];
  const id = flattenParts(nodes)
    .filter((node) => node.kind !== 'fdw-extension')
    .map(describeNode)
    .join(', ');
  return buildMigration(id || 'pg-sync-link migration', ...nodes);
}
