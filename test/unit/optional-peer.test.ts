import { describe, expect, it } from 'vitest';
import { isSyncLinkError, loadOptionalPeer, OptionalPeerError } from 'pg-sync-link';

// Modules as data: URLs, so each case is a real import that fails the way Node fails it.
const moduleThat = (source: string) => `data:text/javascript,${encodeURIComponent(source)}`;

describe('loadOptionalPeer', () => {
  it('says to install the package only when the package itself is not found, keeping the import error', async () => {
    const error = await loadOptionalPeer(
      'pg-sync-link-no-such-peer',
      () => import('pg-sync-link-no-such-peer' as string),
      'The feature',
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OptionalPeerError);
    expect(isSyncLinkError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'OPTIONAL_PEER', peer: 'pg-sync-link-no-such-peer', installed: false });
    expect((error as Error).message).toBe(
      'The feature needs the pg-sync-link-no-such-peer package, which is not installed: npm install pg-sync-link-no-such-peer',
    );
    expect((error as Error).cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });

  it('an installed package that fails to load is not "not installed": its own error is the message and the cause', async () => {
    const throws = await loadOptionalPeer(
      'peer',
      () => import(moduleThat(`throw new Error('needs Node 22');`)),
      'The backend',
    ).catch((caught: unknown) => caught);
    expect(throws).toMatchObject({
      installed: true,
      message: 'The backend needs the peer package, which is installed but failed to load: needs Node 22',
    });
    expect(((throws as Error).cause as Error).message).toBe('needs Node 22');
  });

  it('a missing dependency of the package is not the package missing', async () => {
    const nested = await loadOptionalPeer(
      'peer',
      () => import(moduleThat(`import 'pg-sync-link-missing-dependency';`)),
      'The backend',
      'npm i peer',
    ).catch((caught: unknown) => caught);
    expect(nested).toMatchObject({ installed: true });
    expect((nested as Error).message).toMatch(
      /^The backend needs the peer package, which is installed but failed to load: .*pg-sync-link-missing-dependency/,
    );
    expect((nested as Error).message).not.toContain('npm i peer');
  });

  it('returns the module when it loads', async () => {
    const loaded = await loadOptionalPeer('peer', () => import(moduleThat(`export const answer = 42;`)), 'x');
    expect(loaded.answer).toBe(42);
  });
});
