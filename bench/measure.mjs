// Timing helpers: every benchmark reports a ratio to a baseline measured in the same run.

/**
 * Median wall time in milliseconds of `runs` calls of `work`, after one warm-up call.
 * @param {() => Promise<unknown>} work
 * @param {number} runs
 */
export async function medianMs(work, runs = 5) {
  await work();
  const times = [];
  for (let run = 0; run < runs; run += 1) {
    const start = process.hrtime.bigint();
    await work();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

/** @param {number} value */
export const round = (value) => Math.round(value * 100) / 100;
