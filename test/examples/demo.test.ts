import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

// The README's demo is part of the suite, so it cannot rot.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

it('npm run demo reads legacy products through the link and rolls it back', async () => {
  const output = await new Promise<string>((resolve, reject) => {
    execFile('npm', ['run', 'demo', '--silent'], { cwd: ROOT }, (error, stdout, stderr) =>
      error ? reject(new Error(`demo failed: ${stderr}${stdout}`)) : resolve(stdout),
    );
  });
  expect(output).toContain('Batch 1 run: 2 migrations');
  expect(output).toMatch(/1\s+\| Kettle\s+\| 2999\s+\| 2019-03-01 09:00:00 \| 2021-05-04 10:30:00/);
  expect(output).toMatch(/3\s+\| Mug\s+\| 850/);
  expect(output).toContain('legacy now holds 4 products');
  expect(output).toContain('Batch 1 rolled back: 2 migrations');
  expect(output).toContain('After rollback, app has 0 foreign servers, 0 foreign tables and 0 postgres_fdw extensions.');
}, 120_000);
