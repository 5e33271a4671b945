import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildMigration, env, fdwLink, MissingEnvError, previewMigration, runMigration, secret, SecretResolutionError } from '../../src/index.js';
import { resolveStatements, scrubSecrets } from '../../src/sql/index.js';

const PASSWORD = "pa'ss\\wörd-🔑";

function link(password = env('PG_SYNC_LINK_UNIT_PASSWORD')) {
  return fdwLink({ name: 'legacy', host: 'db', dbname: 'legacy', userMappings: [{ user: 'app', password }] });
}

describe('deferred values', () => {
  it('print their label in every printed form, never a value', () => {
    process.env.PG_SYNC_LINK_UNIT_PASSWORD = PASSWORD;
    const value = env('PG_SYNC_LINK_UNIT_PASSWORD');
    for (const printed of [String(value), `${value}`, JSON.stringify({ value }), inspect(value), inspect(link(), { depth: 10 })]) {
      expect(printed).not.toContain('wörd');
    }
    expect(String(value)).toBe('[env:PG_SYNC_LINK_UNIT_PASSWORD]');
  });

  it('are redacted in previews and resolved, quoted, only for execution', async () => {
    process.env.PG_SYNC_LINK_UNIT_PASSWORD = PASSWORD;
    const migration = buildMigration('link', link());
    expect(previewMigration(migration)).toContain(`password '[redacted env:PG_SYNC_LINK_UNIT_PASSWORD]'`);
    expect(previewMigration(migration)).not.toContain('wörd');
    const { texts, secrets } = await resolveStatements(migration.up);
    expect(texts[2]).toContain(`password E'pa''ss\\\\wörd-🔑'`);
    expect(secrets).toEqual([PASSWORD]);
  });

  it('fail with the variable named when it is not set', async () => {
    delete process.env.PG_SYNC_LINK_UNIT_MISSING;
    const migration = buildMigration('link', link(env('PG_SYNC_LINK_UNIT_MISSING')));
    const sent: string[] = [];
    const run = runMigration(migration, 'up', async (sql) => void sent.push(sql));
    await expect(run).rejects.toThrow(MissingEnvError);
    await expect(run).rejects.toThrow(
      'Environment variable PG_SYNC_LINK_UNIT_MISSING is not set; it is needed for user mapping for server "legacy" option password.',
    );
    expect(sent).toEqual([]);
  });

  it('secret() resolvers may be async, and their failures do not leak their message', async () => {
    const ok = buildMigration('link', link(secret('vault legacy', async () => PASSWORD)));
    const { secrets } = await resolveStatements(ok.up);
    expect(secrets).toEqual([PASSWORD]);
    const failing = buildMigration('link', link(secret('vault legacy', () => {
      throw new Error(`could not decrypt ${PASSWORD}`);
    })));
    const error = await resolveStatements(failing.up).catch((caught: unknown) => caught as Error);
    expect(error).toBeInstanceOf(SecretResolutionError);
    expect(inspect(error, { depth: 10 })).not.toContain('wörd');
    expect(error.message).toBe('The resolver of secret "vault legacy" failed while resolving user mapping for server "legacy" option password.');
  });

  it('a failing statement is reported with secrets scrubbed, whatever the runner put in the message', async () => {
    process.env.PG_SYNC_LINK_UNIT_PASSWORD = PASSWORD;
    const migration = buildMigration('link', link());
    const error = await runMigration(migration, 'up', async (sql) => {
      // What Knex does: prefix the server's message with the SQL it sent.
      if (sql.startsWith('CREATE USER MAPPING')) throw Object.assign(new Error(`${sql} - boom near 'pa''ss\\\\wörd-🔑'`), { code: '42601' });
    }).catch((caught: unknown) => caught as Error);
    expect(error.message).toMatch(/^Migration "link" \(up\) failed at statement 3 of 3: boom near '\[redacted\]'/);
    expect(error.message).toContain(`password '[redacted env:PG_SYNC_LINK_UNIT_PASSWORD]'`);
    expect(inspect(error, { depth: 10 })).not.toContain('wörd');
  });

  it('scrubSecrets removes raw and quoted forms', () => {
    expect(scrubSecrets(`a ${PASSWORD} b 'pa''ss\\wörd-🔑' c`, [PASSWORD])).toBe("a [redacted] b '[redacted]' c");
  });
});
