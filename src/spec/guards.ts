// Type guards for values of unknown shape (user input, caught errors, loaded modules), so
// code reads their fields without type assertions.

/** True for any non-null object (arrays and functions aside): its fields may be read. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The field `key` of `value` when it is an object or function that has it; otherwise undefined. */
export function fieldOf(value: unknown, key: string): unknown {
  return (typeof value === 'object' && value !== null) || typeof value === 'function'
    ? Reflect.get(value, key)
    : undefined;
}

/** The message of a caught value: an Error's message, or the value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True when `value` is one of `choices` (narrows a string to a union of literals). */
export function isOneOf<T extends string>(choices: readonly T[], value: unknown): value is T {
  return choices.some((choice) => choice === value);
}
