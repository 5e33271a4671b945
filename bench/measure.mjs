// Timing helpers: every benchmark reports a ratio to a baseline measured in the same run.

/**
 * Median wall time in milliseconds of `runs` calls of `work`, after one warm-up call.
 * @param {() => Promise<unknown>} work
 * @param {number} runs
 */
export async function medianMs(work, runs = 5) {
  await work();
  const times = [];
  for (let run = 0; run < runs; run += 1) times.push(await timeMs(work));
  return median(times);
}

/** Wall time in milliseconds of one call of `work`. */
export async function timeMs(/** @type {() => Promise<unknown>} */ work) {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** @param {readonly number[]} values */
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** @param {number} value */
export const round = (value) => Math.round(value * 100) / 100;

/** How far apart ratios are: the largest over the smallest, minus one (0.15 = 15%). */
export const spread = (/** @type {readonly number[]} */ ratios) => round(Math.max(...ratios) / Math.min(...ratios) - 1);
