import { fieldOf } from './spec/guards.js';
import { OptionalPeerError } from './errors.js';

const NOT_FOUND = new Set(['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND']);

/**
 * True when `error` says that the package `name` itself cannot be found: not one of its own
 * dependencies, and not a broken file inside it (Node quotes the name it looked for).
 */
export function isPackageNotFound(error: unknown, name: string): boolean {
  const code = fieldOf(error, 'code');
  if (typeof code !== 'string' || !NOT_FOUND.has(code)) return false;
  const message = String(fieldOf(error, 'message') ?? '');
  return message.includes(`'${name}'`) || message.includes(`"${name}"`);
}

/**
 * Loads an optional peer dependency through `load` (a literal `() => import('name')`, so
 * bundlers and types see it). When the package is not installed, the error says to install it;
 * when it is installed but fails to load (a newer major on an older Node, a broken install), the
 * error says so. Either way the real import error is kept as `cause`.
 *
 * @param name the package, e.g. `pg`
 * @param load imports it
 * @param purpose what needs it, e.g. `pg-sync-link/testing`; starts the message
 * @param install the command that installs it; default `npm install <name>`
 */
export async function loadOptionalPeer<T>(
  name: string,
  load: () => Promise<T>,
  purpose: string,
  install = `npm install ${name}`,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isPackageNotFound(error, name))
      throw new OptionalPeerError(
        `${purpose} needs the ${name} package, which is not installed: ${install}`,
        name,
        false,
        error,
      );
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new OptionalPeerError(
      `${purpose} needs the ${name} package, which is installed but failed to load: ${reason}`,
      name,
      true,
      error,
    );
  }
}
