import { InvalidOptionError } from '../errors.js';
import { flattenParts, migrationFromSteps, type Migration, type Part } from './migration.js';
import {
  allTransactional,
  identityOf,
  renderChange,
  renderNode,
  stepOf,
  type Rendered,
  type SyncNode,
} from '../kinds/index.js';

function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(prefix)) {
    throw new InvalidOptionError(
      `A migration id prefix is letters, digits, '.', '_' and '-', e.g. 'products-sync'; got ${JSON.stringify(prefix)}.`,
      'prefix',
    );
  }
  return prefix;
}

/**
 * The whole ordered migration set for one side, one migration per step (a link, a foreign
 * table, an endpoint, a sync), with ids that depend only on what each step is:
 * `products-sync/001-link-legacy`, `products-sync/002-sync-public.products-to-legacy`...
 */
export function planMigrations(prefix: string, ...parts: Part[]): readonly Migration[] {
  const checked = checkPrefix(prefix);
  const steps = new Map<string, SyncNode[]>();
  let pendingExtension: SyncNode | undefined;
  for (const node of flattenParts(parts)) {
    const name = stepOf(node);
    if (name === '') {
      pendingExtension = node; // goes with the first link that follows
      continue;
    }
    const step = steps.get(name) ?? [];
    if (pendingExtension && node.kind === 'foreign-server') {
      step.push(pendingExtension);
      pendingExtension = undefined;
    }
    step.push(node);
    steps.set(name, step);
  }
  return Object.freeze(
    [...steps.entries()].map(([name, nodes], index) =>
      migrationFromSteps(`${checked}/${String(index + 1).padStart(3, '0')}-${name}`, nodes.map(renderNode), nodes),
    ),
  );
}

/**
 * One migration that turns version `before` of a side into version `after`, and whose down
 * turns it back exactly: removed steps are undone, added ones made, changed ones altered
 * (server and mapping options) or rebuilt. Unchanged objects are not touched.
 */
export function changeMigration(id: string, before: readonly Part[], after: readonly Part[]): Migration {
  if (typeof id !== 'string' || id.trim() === '')
    throw new InvalidOptionError('A migration needs a non-empty id.', 'id');
  const old = new Map(flattenParts(before).map((node) => [identityOf(node), node]));
  const next = new Map(flattenParts(after).map((node) => [identityOf(node), node]));
  const fingerprint = (node: SyncNode) => JSON.stringify(node);
  const removed = [...old.entries()].filter(([identity]) => !next.has(identity)).map(([, node]) => node);
  const removals: Rendered[] = removed.toReversed().map((node) => {
    const rendered = renderNode(node);
    return {
      up: rendered.down,
      down: rendered.up,
      ...(rendered.transactional === false ? { transactional: false as const } : {}),
    };
  });
  const forward: Rendered[] = [];
  for (const [identity, node] of next) {
    const previous = old.get(identity);
    if (previous === undefined) forward.push(renderNode(node));
    else if (fingerprint(previous) !== fingerprint(node)) forward.push(renderChange(previous, node));
  }
  // Removals run first (newest first) and are restored last on the way down.
  const up = [...removals.flatMap((step) => step.up), ...forward.flatMap((step) => step.up)];
  const down = [
    ...forward.toReversed().flatMap((step) => step.down),
    ...removals.toReversed().flatMap((step) => step.down),
  ];
  if (up.length === 0)
    throw new InvalidOptionError(`Migration "${id}" changes nothing: the two versions are the same.`, id);
  return Object.freeze({
    id,
    up: Object.freeze(up),
    down: Object.freeze(down),
    transactional: allTransactional([...removals, ...forward]),
  });
}

/** One version of a side's sync setup, for versionedMigrations(). */
export interface Version {
  /** Short name of the version, part of its migration id: 'v2', '2026-11-add-sku'... */
  readonly version: string;
  /** Everything this version installs: links and nodes, as for planMigrations(). */
  readonly parts: readonly Part[];
}

/**
 * A side's full history: the first version as planMigrations, each later one as one
 * changeMigration from the version before it, with id `<prefix>/<version>`.
 */
export function versionedMigrations(prefix: string, versions: readonly Version[]): readonly Migration[] {
  const checked = checkPrefix(prefix);
  const [first, ...later] = versions;
  if (first === undefined) throw new InvalidOptionError('versionedMigrations needs at least one version.', 'versions');
  const changes = later.map((version, index) =>
    changeMigration(`${checked}/${checkPrefix(version.version)}`, versions[index]!.parts, version.parts),
  );
  return Object.freeze([...planMigrations(checked, ...first.parts), ...changes]);
}
