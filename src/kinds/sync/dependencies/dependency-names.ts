import { checkIdentifier, type QualifiedName } from '../../../sql/index.js';
import { fitFamily, senderFunctionName } from '../sync-names.js';

/** The events a dependency has a trigger for, on the dependency table. */
export const DEPENDENCY_TRIGGER_EVENTS = ['insert', 'update', 'delete', 'commit', 'truncate'] as const;

/** One of DEPENDENCY_TRIGGER_EVENTS. */
export type DependencyTriggerEvent = (typeof DEPENDENCY_TRIGGER_EVENTS)[number];

/**
 * The objects one dependency of a sync creates: a trigger function next to the synced table,
 * `<table>__sync_to_<server>_dep_<dependency>`, and triggers on the dependency table named after
 * the sync, `<table>__sync_to_<server>_dep_<event>`, so several syncs can depend on one table.
 */
export function dependencyObjects(
  table: QualifiedName & { readonly schema: string },
  server: string,
  dependency: QualifiedName & { readonly schema: string },
) {
  return fitFamily(
    [table.name, server, dependency.name],
    ([name, to, dep]) => {
      const sync = senderFunctionName(name!, to!);
      return {
        function: { schema: table.schema, name: checkIdentifier(`${sync}_dep_${dep}`, 'sync dependency function') },
        trigger: (event: DependencyTriggerEvent) => checkIdentifier(`${sync}_dep_${event}`, 'sync dependency trigger'),
      };
    },
    (objects) => DEPENDENCY_TRIGGER_EVENTS.map(objects.trigger),
  );
}
