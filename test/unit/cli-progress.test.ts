import { describe, expect, it } from 'vitest';
import { progressReporter } from '../../src/cli/progress.js';

function stream(isTTY: boolean) {
  const written: string[] = [];
  return { written, stream: { isTTY, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream };
}

describe('CLI progress on stderr', () => {
  it('redraws one bar in place on a terminal, and clears it at the end', () => {
    const { written, stream: tty } = stream(true);
    const progress = progressReporter(tty);
    progress.report({ phase: 'copy', done: 250, total: 1000 });
    progress.report({ phase: 'copy', done: 1000, total: 1000 });
    progress.end();
    expect(written).toEqual([
      '\r\x1b[2K[######------------------]  25% copy 250/1000 rows',
      '\r\x1b[2K[########################] 100% copy 1000/1000 rows',
      '\r\x1b[2K',
    ]);
  });

  it('writes plain lines elsewhere: each phase once, and its end, not every batch', () => {
    const { written, stream: pipe } = stream(false);
    const progress = progressReporter(pipe);
    progress.report({ phase: 'count', done: 0, total: 1 });
    progress.report({ phase: 'compare', done: 0, total: 1 });
    progress.report({ phase: 'compare', done: 1, total: 1 });
    for (let done = 100; done <= 1000; done += 100) progress.report({ phase: 'copy', done, total: 1000 });
    progress.end();
    expect(written).toEqual([
      'counting rows\n',
      'comparing buckets, pass 1\n',
      'copy 100/1000 rows\n',
      'copy 1000/1000 rows\n',
    ]);
  });
});
