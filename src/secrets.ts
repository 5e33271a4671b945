import { InvalidOptionError, MissingEnvError, SecretResolutionError } from './errors.js';

const deferredBrand: unique symbol = Symbol('pg-sync-link.deferred');

/**
 * A value known only when a migration runs: an environment variable or a resolver of your own.
 * Printing it (String(), JSON, util.inspect, SQL previews) shows its label, never its value.
 */
export interface Deferred {
  /** Marks a Deferred made by env(), secret() or this library; a plain object cannot pass for one. */
  readonly [deferredBrand]: true;
  /** What the value is, safe to print: `env:LEGACY_DB_PASSWORD`. */
  readonly label: string;
  /** Gets the value, when the migration runs; `usedFor` names where it goes, for error messages. */
  resolve(usedFor: string): Promise<string>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function makeDeferred(label: string, resolve: (usedFor: string) => Promise<string>): Deferred {
  const value = {
    [deferredBrand]: true as const,
    label,
    resolve,
    toString: () => `[${label}]`,
    toJSON: () => `[${label}]`,
    [Symbol.for('nodejs.util.inspect.custom')]: () => `[${label}]`,
  };
  return Object.freeze(value);
}

/**
 * The value of an environment variable, read when the migration runs.
 *
 * @example
 * userMapping({ server: 'legacy', user: env('LEGACY_DB_USER'), password: env('LEGACY_DB_PASSWORD') })
 */
export function env(name: string): Deferred {
  if (typeof name !== 'string' || !ENV_NAME.test(name)) {
    throw new InvalidOptionError(
      `env() takes an environment variable name made of letters, digits and underscores, got ${JSON.stringify(name)}.`,
      'env',
    );
  }
  return makeDeferred(`env:${name}`, async (usedFor) => {
    const value = process.env[name];
    if (value === undefined || value === '') throw new MissingEnvError(name, usedFor);
    return value;
  });
}

/**
 * A value from a resolver of your own (a vault, a file, a cloud secret manager), called when
 * the migration runs. `label` is what printed forms show instead of the value.
 */
export function secret(label: string, resolver: () => string | Promise<string>): Deferred {
  if (typeof label !== 'string' || label.trim() === '') {
    throw new InvalidOptionError('secret() needs a non-empty label to print in place of the value.', 'secret');
  }
  if (typeof resolver !== 'function') {
    throw new InvalidOptionError(
      `secret(${JSON.stringify(label)}) needs a resolver function as its second argument.`,
      'secret',
    );
  }
  return makeDeferred(`secret:${label}`, async (usedFor) => {
    let value: unknown;
    try {
      value = await resolver();
    } catch (error) {
      // The resolver's own message may quote the secret, so it is not passed on as text.
      throw new SecretResolutionError(`The resolver of secret "${label}" failed while resolving ${usedFor}.`, {
        cause: error instanceof Error ? new Error(error.name) : undefined,
      });
    }
    if (typeof value !== 'string' || value === '') {
      throw new SecretResolutionError(
        `The resolver of secret "${label}" must return a non-empty string (for ${usedFor}).`,
      );
    }
    return value;
  });
}

/**
 * A deferred value made from others (a connection string from its deferred parts). For the
 * library's own builders; `label` must show no secret value.
 */
export function deferredFrom(label: string, resolve: (usedFor: string) => Promise<string>): Deferred {
  return makeDeferred(label, resolve);
}

/** True for a value made by env() or secret() (a Deferred). */
export function isDeferred(value: unknown): value is Deferred {
  return typeof value === 'object' && value !== null && deferredBrand in value;
}
