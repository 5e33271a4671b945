/** What watchLoop() repeats, and how. */
export interface WatchOptions {
  /** Reads and renders one screen. */
  readonly refresh: () => Promise<string>;
  /** Between two reads, in milliseconds. */
  readonly intervalMs: number;
  /** Stop after this many reads; until Ctrl-C (or SIGTERM) when not given. */
  readonly count?: number;
  /** Redraw in place (a terminal), rather than print blocks one after another. */
  readonly inPlace: boolean;
}

// Moves the cursor home and clears the screen: the next read replaces the last one.
const HOME_AND_CLEAR = '\u001b[H\u001b[2J';

/**
 * Reads and prints a screen every `intervalMs` until `count` reads or Ctrl-C. Ctrl-C ends the
 * wait at once (a read in flight finishes first: each is bounded by its own timeout).
 */
export async function watchLoop(options: WatchOptions): Promise<void> {
  let stopping = false;
  let wake = () => {};
  const stop = () => {
    stopping = true;
    wake();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for (let reads = 1; ; reads += 1) {
      const screen = await options.refresh();
      if (options.inPlace) process.stdout.write(`${HOME_AND_CLEAR}${screen}\n`);
      // A blank line between blocks; a one-line screen (JSON) is one line each read.
      else process.stdout.write(screen.includes('\n') ? `${screen}\n\n` : `${screen}\n`);
      if (stopping || (options.count !== undefined && reads >= options.count)) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopping) return;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
