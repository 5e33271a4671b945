import { execFileSync } from 'node:child_process';
import { dockerUnavailableReason } from '../../src/testing/index.js';

/** Where the integration tests get their PostgreSQL servers from. */
export type BackendName = 'embedded' | 'system' | 'external' | 'testcontainers';

export interface BackendChoice {
  readonly name: BackendName;
  /** Set when the backend cannot run on this machine: the suite logs it and leaves it out. */
  readonly unavailable?: string;
}

export function systemBindir(): string | undefined {
  if (process.env.PG_SYSTEM_BINDIR) return process.env.PG_SYSTEM_BINDIR;
  try {
    return execFileSync('pg_config', ['--bindir'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/** Every backend, with the reason it cannot run here if it cannot. */
export function backendChoices(): readonly BackendChoice[] {
  const hasExternal = Boolean(
    process.env.PG_TEST_URL || (process.env.PG_TEST_LEGACY_URL && process.env.PG_TEST_APP_URL),
  );
  return [
    { name: 'embedded' },
    systemBindir()
      ? { name: 'system' }
      : { name: 'system', unavailable: 'pg_config is not on PATH (set PG_SYSTEM_BINDIR)' },
    hasExternal
      ? { name: 'external' }
      : { name: 'external', unavailable: 'PG_TEST_URL (or PG_TEST_LEGACY_URL and PG_TEST_APP_URL) is not set' },
    process.env.PG_TEST_TESTCONTAINERS === 'off'
      ? { name: 'testcontainers', unavailable: 'PG_TEST_TESTCONTAINERS=off' }
      : { name: 'testcontainers', unavailable: dockerUnavailableReason() },
  ];
}
