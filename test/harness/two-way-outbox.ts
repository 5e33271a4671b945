import { expect } from 'vitest';
import type { DrainResult } from '../../src/index.js';

/** A time `second` seconds into a fixed minute: conflict policies that compare updated_at read these. */
export const at = (second: number): string => `2030-01-01 00:00:${String(second).padStart(2, '0')}+00`;

/**
 * Drains `first`'s outbox, then the other side's (each drain given as a call), and checks that
 * both succeeded. Returns how many changes each side delivered.
 */
export async function drainBothWays(
  first: 'app' | 'legacy',
  drains: { readonly app: () => Promise<DrainResult>; readonly legacy: () => Promise<DrainResult> },
): Promise<{ app: number; legacy: number }> {
  const second = first === 'app' ? 'legacy' : 'app';
  const one = await drains[first]();
  const two = await drains[second]();
  expect(one.error).toBeNull();
  expect(two.error).toBeNull();
  return { [first]: one.delivered, [second]: two.delivered } as { app: number; legacy: number };
}
