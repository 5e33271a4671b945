import type { CompareProgress } from 'pg-sync-link';

const WIDTH = 24;
const PLAIN_EVERY_MS = 1000;

/**
 * Progress on stderr: a bar redrawn in place on a terminal, plain lines otherwise (a log or a
 * pipe), at most one a second per phase so a long run stays readable.
 */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): {
  report: (progress: CompareProgress) => void;
  end: () => void;
} {
  let drawn = false;
  let lastPhase = '';
  let lastLine = 0;
  let lastText = '';
  const label = (progress: CompareProgress) => {
    switch (progress.phase) {
      case 'count':
        return 'counting rows';
      case 'compare':
        return `comparing buckets, pass ${progress.done + (progress.done < progress.total ? 1 : 0)}`;
      case 'keys':
        return `reading the keys of ${progress.total} rows in differing buckets`;
      case 'copy':
        return `copy ${progress.done}/${progress.total} rows`;
      case 'delete':
        return `delete ${progress.done}/${progress.total} rows`;
    }
  };
  return {
    report(progress) {
      if (stream.isTTY) {
        const share = progress.total === 0 ? 1 : progress.done / progress.total;
        const filled = Math.round(share * WIDTH);
        stream.write(
          `\r\x1b[2K[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(Math.round(share * 100)).padStart(3)}% ${label(progress)}`,
        );
        drawn = true;
        return;
      }
      const now = Date.now();
      const last = progress.done === progress.total;
      const line = label(progress);
      if (line !== lastText && (progress.phase !== lastPhase || last || now - lastLine >= PLAIN_EVERY_MS)) {
        stream.write(`${line}\n`);
        lastPhase = progress.phase;
        lastLine = now;
        lastText = line;
      }
    },
    end() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}
