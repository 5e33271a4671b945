import { describe, expect, it } from 'vitest';
import {
  env,
  fdwLink,
  foreignServer,
  foreignTable,
  importForeignSchema,
  InvalidIdentifierError,
  InvalidOptionError,
  userMapping,
  buildMigration,
} from '../../src/index.js';

const server = { name: 'legacy', host: 'db', dbname: 'legacy' };

describe('foreign server options', () => {
  it('needs a host and a dbname', () => {
    expect(() => foreignServer({ name: 'legacy', dbname: 'x' } as never)).toThrow(/needs a host/);
    expect(() => foreignServer({ name: 'legacy', host: '', dbname: 'x' })).toThrow(InvalidOptionError);
    expect(() => foreignServer({ name: 'legacy', host: 'db' } as never)).toThrow(/needs a dbname/);
  });

  it.each([0, 65536, -1, 5432.5, '54x', 'abc', Number.NaN])('refuses port %j', (port) => {
    expect(() => foreignServer({ ...server, port: port as number })).toThrow(/port number from 1 to 65535/);
  });

  it('refuses a host with spaces or quotes', () => {
    expect(() => foreignServer({ ...server, host: "db' port '1" })).toThrow(/must be a host name/);
  });

  it('names an unknown postgres_fdw option and suggests the likely one', () => {
    const error = (() => {
      try {
        foreignServer({ ...server, options: { fetchsize: 100 } });
      } catch (caught) {
        return caught as InvalidOptionError;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error?.message).toMatch(
      /Unknown postgres_fdw option "fetchsize" for foreign server "legacy". Did you mean "fetch_size"\?/,
    );
    expect(error?.path).toBe('foreign server "legacy".fetchsize');
  });

  it('checks option values by kind', () => {
    expect(() => foreignServer({ ...server, options: { fetch_size: 0 } })).toThrow(
      /fetch_size must be a whole number, 1 or more/,
    );
    expect(() => foreignServer({ ...server, options: { sslmode: 'sometimes' } })).toThrow(
      /sslmode must be one of disable, allow/,
    );
    expect(() => foreignServer({ ...server, options: { use_remote_estimate: 'yes' } })).toThrow(
      /must be true or false/,
    );
    expect(() => foreignServer({ ...server, options: { fdw_tuple_cost: -1 } })).toThrow(/must be a number, 0 or more/);
  });

  it('keeps user and password off the server, and host/port/dbname out of options', () => {
    expect(() => foreignServer({ ...server, options: { user: 'x' } })).toThrow(/belongs to a user mapping/);
    expect(() => foreignServer({ ...server, options: { port: 1 } })).toThrow(/give port once/);
  });

  it('names an unknown top-level field and its likely fix', () => {
    expect(() => foreignServer({ ...server, hots: 'x' } as never)).toThrow(
      /Unknown option "hots" in fdwServer. Did you mean "host"\?/,
    );
  });

  it('refuses invalid server names with a typed error', () => {
    expect(() => foreignServer({ ...server, name: '' })).toThrow(InvalidIdentifierError);
    expect(() => foreignServer({ ...server, name: 'x'.repeat(64) })).toThrow(InvalidIdentifierError);
    expect(() => foreignServer({ ...server, name: 42 as never })).toThrow(/must be a string/);
  });
});

describe('user mapping options', () => {
  it('refuses a password written as a plain value', () => {
    expect(() => userMapping({ server: 'legacy', password: 'hunter2' as never })).toThrow(
      /must be env\('VARIABLE'\) or secret/,
    );
    expect(() => userMapping({ server: 'legacy', password: 'hunter2' as never })).not.toThrow(/hunter2/);
  });

  it('refuses unknown roles keywords and reserved role names', () => {
    expect(() => userMapping({ server: 'legacy', for: 'EVERYONE' as never })).toThrow(/must be one of CURRENT_USER/);
    expect(() => userMapping({ server: 'legacy', for: { role: 'public' } })).toThrow(
      /reserved role name; use the string 'PUBLIC'/,
    );
  });

  it('refuses two mappings for the same role in one link', () => {
    expect(() => fdwLink({ ...server, userMappings: [{ user: 'a' }, { for: 'CURRENT_USER', user: 'b' }] })).toThrow(
      /maps CURRENT_USER twice/,
    );
  });
});

describe('foreign table options', () => {
  const columns = [{ name: 'id', type: 'bigint' }];

  it('needs columns, each with a known type, once', () => {
    expect(() => foreignTable({ server: 'legacy', name: 't', columns: [] })).toThrow(/at least one column/);
    expect(() => foreignTable({ server: 'legacy', name: 't', columns: [{ name: 'id' } as never] })).toThrow(
      /needs a type/,
    );
    expect(() => foreignTable({ server: 'legacy', name: 't', columns: [...columns, ...columns] })).toThrow(
      /has column "id" twice/,
    );
    expect(() => foreignTable({ server: 'legacy', name: 't', columns: [{ name: 'id', type: 'int; drop' }] })).toThrow(
      /not a column type/,
    );
    expect(() =>
      foreignTable({ server: 'legacy', name: 't', columns: [{ name: 'id', type: 'int', nullable: true } as never] }),
    ).toThrow(/Unknown option "nullable"/);
  });

  it('refuses server-only options on a table', () => {
    expect(() => foreignTable({ server: 'legacy', name: 't', columns, options: { host: 'x' } })).toThrow(
      /Unknown postgres_fdw option "host"/,
    );
  });

  it('refuses a schema name that is too long, naming what it is', () => {
    expect(() => foreignTable({ server: 'legacy', name: { schema: 's'.repeat(70), name: 't' }, columns })).toThrow(
      /foreign table schema name/,
    );
  });
});

describe('import foreign schema options', () => {
  it('takes limitTo or except, not both, and neither empty', () => {
    expect(() =>
      importForeignSchema({ server: 'legacy', remoteSchema: 'public', into: 'l', limitTo: ['a'], except: ['b'] }),
    ).toThrow(/limitTo or except, not both/);
    expect(() => importForeignSchema({ server: 'legacy', remoteSchema: 'public', into: 'l', limitTo: [] })).toThrow(
      /is empty/,
    );
    expect(() =>
      importForeignSchema({
        server: 'legacy',
        remoteSchema: 'public',
        into: 'l',
        options: { import_foreign_keys: true },
      }),
    ).toThrow(InvalidOptionError);
  });
});

describe('migrations', () => {
  it('need an id and something in them', () => {
    expect(() => buildMigration('', foreignServer(server))).toThrow(/non-empty id/);
    expect(() => buildMigration('x')).toThrow(/has nothing in it/);
    expect(() => buildMigration('x', { kind: 'table' } as never)).toThrow(
      /not something a migration can be built from/,
    );
  });

  it('env() refuses a name that is not a variable name', () => {
    expect(() => env('LEGACY DB')).toThrow(InvalidOptionError);
    expect(() => env('')).toThrow(InvalidOptionError);
  });
});

describe('isSyncLinkError', () => {
  it("recognises this library's errors, also from another copy of it, and nothing else", async () => {
    const { isSyncLinkError } = await import('../../src/index.js');
    expect(isSyncLinkError(new InvalidOptionError('x', 'p'))).toBe(true);
    expect(isSyncLinkError(Object.assign(new Error('from a CommonJS copy'), { code: 'MISSING_ENV' }))).toBe(true);
    expect(isSyncLinkError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isSyncLinkError(new Error('plain'))).toBe(false);
    expect(isSyncLinkError('INVALID_OPTION')).toBe(false);
  });

  it("finds our error through the cause of a wrapper such as Umzug's MigrationError", async () => {
    const { isSyncLinkError, syncLinkErrorOf } = await import('../../src/index.js');
    const ours = new InvalidOptionError('x', 'p');
    const wrapped = new Error('Migration 001 (up) failed', { cause: new Error('middle', { cause: ours }) });
    expect(isSyncLinkError(wrapped)).toBe(true);
    expect(syncLinkErrorOf(wrapped)).toBe(ours);
    expect(syncLinkErrorOf(wrapped)?.code).toBe('INVALID_OPTION');
    expect(syncLinkErrorOf(new Error('plain', { cause: new Error('deeper') }))).toBeUndefined();
    const loop: Error & { cause?: unknown } = new Error('loop');
    loop.cause = loop;
    expect(isSyncLinkError(loop)).toBe(false);
  });
});
