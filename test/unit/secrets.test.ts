import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  env,
  fdwLink,
  type MigrationFailedError,
  MissingEnvError,
  previewMigration,
  runMigration,
  secret,
  SecretResolutionError,
} from '../../src/index.js';
import type { Knex } from 'knex';
import { knexExecutor } from '../../adapters/knex.js';
import { resolveStatements, scrubSecrets } from '../../src/sql/index.js';

const PASSWORD = "pa'ss\\wörd-🔑%s";

function link(password = env('PG_SYNC_LINK_UNIT_PASSWORD')) {
  return fdwLink({ name: 'legacy', host: 'db', dbname: 'legacy', userMappings: [{ user: 'app', password }] });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(outcome instanceof Error)) throw new Error('expected a failure');
  return outcome;
}

describe('deferred values', () => {
  it('print their label in every printed form, never a value', () => {
    process.env.PG_SYNC_LINK_UNIT_PASSWORD = PASSWORD;
    const value = env('PG_SYNC_LINK_UNIT_PASSWORD');
    for (const printed of [
      String(value),
      `${value}`,
      JSON.stringify({ value }),
      inspect(value),
      inspect(link(), { depth: 10 }),
    ]) {
      expect(printed).not.toContain('wörd');
    }
    expect(String(value)).toBe('[env:PG_SYNC_LINK_UNIT_PASSWORD]');
  });

  it('are redacted in previews', () => {
    const migration = buildMigration('link', link());
    expect(previewMigration(migration)).toContain(`password '[redacted env:PG_SYNC_LINK_UNIT_PASSWORD]'`);
    expect(previewMigration(migration)).not.toContain('wörd');
  });

  it('a secret is bound as a parameter into a setting, never in any statement text', async () => {
    process.env.PG_SYNC_LINK_UNIT_PASSWORD = PASSWORD;
    const migration = buildMigration('link', link());
    const { statements, secrets } = await resolveStatements(migration.up);
    expect(secrets).toEqual([PASSWORD]);
    const texts = statements
      .flatMap((statement) => [statement.before, statement.setup, statement.main, statement.cleanup, statement.after])
      .map((executable) => executable?.text);
    expect(texts.join('\n')).not.toContain('wörd');
    expect(statements[2]).toEqual({
      before: {
        values: [],
        text: expect.stringContaining(`pg_catalog.set_config('log_parameter_max_length', '0', false)`),
      },
      setup: { values: [PASSWORD], text: `SELECT pg_catalog.set_config('pg_sync_link.secret_1', $1, false)` },
      main: {
        values: [],
        text:
          `DO $pgsl$DECLARE failure_state text; failure_message text; failure_detail text; failure_hint text; ` +
          `BEGIN EXECUTE pg_catalog.format('CREATE USER MAPPING FOR CURRENT_USER SERVER legacy OPTIONS ("user" ''app'', password %L)', pg_catalog.current_setting('pg_sync_link.secret_1')); ` +
          // Raised again without the error context, which would quote the statement and its secret.
          `EXCEPTION WHEN OTHERS THEN GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure_message = MESSAGE_TEXT, failure_detail = PG_EXCEPTION_DETAIL, failure_hint = PG_EXCEPTION_HINT; ` +
          `RAISE EXCEPTION USING ERRCODE = failure_state, MESSAGE = failure_message, DETAIL = failure_detail, HINT = failure_hint; END$pgsl$`,
      },
      cleanup: { values: [], text: `SELECT pg_catalog.set_config('pg_sync_link.secret_1', '', false)` },
      after: {
        values: [],
        text: expect.stringContaining(
          `pg_catalog.set_config('log_parameter_max_length', pg_catalog.current_setting('pg_sync_link.saved_log_parameter_max_length'), false)`,
        ),
      },
    });
    expect(statements[1]).toEqual({
      main: {
        values: [],
        text: "CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db', dbname 'legacy', connect_timeout '10', keepalives '1', keepalives_idle '30', keepalives_interval '10', keepalives_count '3', tcp_user_timeout '60000')",
      },
    });
  });

  it('the setting is cleared, and parameter logging restored, even when the statement fails', async () => {
    process.env.PG_SYNC_LINK_UNIT_PASSWORD = PASSWORD;
    const sent: string[] = [];
    await failure(
      runMigration(buildMigration('link', link()), 'up', async (sql) => {
        sent.push(sql);
        if (sql.includes('BEGIN EXECUTE pg_catalog.format')) throw new Error('mapping exists');
      }),
    );
    expect(sent.at(-2)).toBe(`SELECT pg_catalog.set_config('pg_sync_link.secret_1', '', false)`);
    expect(sent.at(-1)).toContain('saved_log_parameter_max_length');
  });

  it('fail with the variable named when it is not set, before anything is sent', async () => {
    delete process.env.PG_SYNC_LINK_UNIT_MISSING;
    const migration = buildMigration('link', link(env('PG_SYNC_LINK_UNIT_MISSING')));
    const sent: string[] = [];
    const error = await failure(runMigration(migration, 'up', async (sql) => void sent.push(sql)));
    expect(error).toBeInstanceOf(MissingEnvError);
    expect(error.message).toBe(
      'Environment variable PG_SYNC_LINK_UNIT_MISSING is not set; it is needed for user mapping for server "legacy" option password. Set it before running the migration.',
    );
    expect(sent).toEqual([]);
  });

  it('secret() resolvers may be async, and their failures do not leak their message', async () => {
    const ok = buildMigration('link', link(secret('vault legacy', async () => PASSWORD)));
    expect((await resolveStatements(ok.up)).secrets).toEqual([PASSWORD]);
    const failing = buildMigration(
      'link',
      link(
        secret('vault legacy', () => {
          throw new Error(`could not decrypt ${PASSWORD}`);
        }),
      ),
    );
    const error = await failure(resolveStatements(failing.up));
    expect(error).toBeInstanceOf(SecretResolutionError);
    expect(inspect(error, { depth: 10 })).not.toContain('wörd');
    expect(error.message).toBe(
      'The resolver of secret "vault legacy" failed while resolving user mapping for server "legacy" option password.',
    );
  });

  it('a failing statement is reported with secrets scrubbed, whatever the runner put in the message', async () => {
    process.env.PG_SYNC_LINK_UNIT_PASSWORD = PASSWORD;
    const migration = buildMigration('link', link());
    const error = await failure(
      runMigration(
        migration,
        'up',
        // What Knex does: prefix the server's message with the SQL it sent, values inlined;
        // the Knex executor cuts the prefix off and runMigration scrubs the rest.
        knexExecutor({
          raw: async (sql: string, values: readonly string[] = []) => {
            if (values.length > 0)
              throw Object.assign(new Error(`${sql.replace('?', `'${values[0]}'`)} - boom near ${PASSWORD}`), {
                code: '42601',
              });
          },
        } as unknown as Knex),
      ),
    );
    expect(error.message).toMatch(/^Migration "link" \(up\) failed at statement 3 of 4: boom near \[redacted\]/);
    expect(error.message).toBe('Migration "link" (up) failed at statement 3 of 4: boom near [redacted]');
    expect((error as MigrationFailedError).sql).toContain(`password '[redacted env:PG_SYNC_LINK_UNIT_PASSWORD]'`);
    expect(((error as Error).cause as Error).message).toBe('boom near [redacted]');
    expect(inspect(error, { depth: 10 })).not.toContain('wörd');
  });

  it('a runner message that repeats a secret is scrubbed by runMigration itself', async () => {
    process.env.PG_SYNC_LINK_UNIT_PASSWORD = PASSWORD;
    const migration = buildMigration('link', link());
    const error = await failure(
      runMigration(migration, 'up', async (sql, values) => {
        if (values.length > 0)
          throw Object.assign(new Error(`${sql.replace('$1', `'${values[0]}'`)} - boom near ${PASSWORD}`), {
            code: '42601',
          });
      }),
    );
    expect(error.message).toMatch(
      /^Migration "link" \(up\) failed at statement 3 of 4: .*'\[redacted\]'.* - boom near \[redacted\]/,
    );
    expect(inspect(error, { depth: 10 })).not.toContain('wörd');
  });

  it('scrubSecrets removes raw and quoted forms', () => {
    expect(scrubSecrets(`a ${PASSWORD} b E'pa''ss\\\\wörd-🔑%s' c`, [PASSWORD])).toBe('a [redacted] b [redacted] c');
  });
});
