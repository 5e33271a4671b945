import { quoteIdentifier, quoteQualifiedName, type QualifiedName } from '../../../sql/index.js';

// How messages and set-up errors name a sync's tables.

export function displayName(name: QualifiedName): string {
  // Quoted where SQL would need it, so `public."public.timesheet"` cannot read as another name.
  return quoteQualifiedName(name);
}

/** How messages name a sync's destination: `public.products on server legacy`, names quoted where needed. */
export function destinationLabel(remote: QualifiedName, server: string): string {
  return `${displayName(remote)} on server ${quoteIdentifier(server)}`;
}
