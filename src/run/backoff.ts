/** Exponential backoff with jitter: initial, then doubling up to max; reset after a success. */
export function backoff(initialMs: number, maxMs: number) {
  let next = initialMs;
  return {
    delay(): number {
      const current = next;
      next = Math.min(maxMs, next * 2);
      // Up to a quarter less, so many workers do not retry in step.
      return Math.round(current * (1 - Math.random() * 0.25));
    },
    reset(): void {
      next = initialMs;
    },
  };
}

/** A sleep that `wake()` ends early; each wait() uses a fresh timer. */
export function wakeableSleep() {
  let wake: (() => void) | undefined;
  let signalled = false;
  return {
    wait(ms: number): Promise<void> {
      if (signalled) {
        signalled = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    },
    /** Ends the current wait, or the next one at once when nobody waits now. */
    wake(): void {
      if (wake) wake();
      else signalled = true;
    },
  };
}
