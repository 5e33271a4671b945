import type { Rendered } from './rendered.js';

/**
 * Everything the library knows about one kind of node, in one place: each kind file exports
 * one of these and src/kinds/registry.ts lists them all, keyed by kind, so a kind left out
 * does not compile.
 */
export interface KindDefinition<Node extends { readonly kind: string }> {
  /** The statements that create the object (`up`) and remove it (`down`). */
  readonly render: (node: Node) => Rendered;
  /** A short name for the node, used as a default migration id and in messages: `server legacy`. */
  readonly describe: (node: Node) => string;
  /**
   * What the node is, independent of how it is configured: two versions of a link whose
   * nodes share an identity hold the same object, changed or not.
   */
  readonly identity: (node: Node) => string;
  /**
   * The step of a migration set the node belongs to, part of the step's migration id
   * (`link-legacy`); nodes with the same step go into one migration. The empty string means
   * "with the next foreign server" (the postgres_fdw extension).
   */
  readonly step: (node: Node) => string;
  /**
   * How to turn one version of the node into another in place, when PostgreSQL can alter it.
   * Without it a changed node is removed and created again.
   */
  readonly change?: (before: Node, after: Node) => Rendered;
}

/** A qualified name as part of an identity: schema (or null) and name, JSON-encoded. */
export function nameIdentity(value: { readonly schema?: string; readonly name: string }): string {
  return JSON.stringify([value.schema ?? null, value.name]);
}
