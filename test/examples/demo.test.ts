import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

// The README's demo is part of the suite, so it cannot rot.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

it('npm run demo syncs products both ways between legacy and app, and rolls back clean', async () => {
  const output = await new Promise<string>((resolve, reject) => {
    execFile('npm', ['run', 'demo', '--silent'], { cwd: ROOT }, (error, stdout, stderr) =>
      error ? reject(new Error(`demo failed: ${stderr}${stdout}`)) : resolve(stdout),
    );
  });
  expect(output).toContain('Batch 1 run: 4 migrations');
  const throughLink = output.slice(
    output.indexOf("legacy's products, read by app through the link"),
    output.indexOf('app.products, copied'),
  );
  expect(throughLink).toMatch(/1\s+\| Kettle\s+\| 2999\s+\| 2021-05-04 10:30:00/);
  expect(throughLink).toMatch(/3\s+\| Mug\s+\| 850/);
  const legacy = output.slice(output.indexOf('legacy.products:'), output.indexOf('app.products:\n'));
  const app = output.slice(output.indexOf('app.products:\n'), output.indexOf('Both sides'));
  for (const side of [legacy, app]) {
    expect(side).toMatch(/1\s+\| Kettle\s+\| 3199\s+\| 2026-11-22 09:00:00/);
    expect(side).toMatch(/4\s+\| Tea strainer\s+\| 499/);
    expect(side).toMatch(/5\s+\| Milk jug\s+\| 1250/);
    expect(side).not.toContain('Mug');
  }
  expect(output).toContain('Both sides identical: yes');
  expect(output).toContain(
    'After rollback: legacy {"servers":0,"triggers":0,"endpoints":0}, app {"servers":0,"triggers":0,"endpoints":0}.',
  );
}, 120_000);
