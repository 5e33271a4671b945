// The demo and examples import the built package (dist/), which a fresh clone does not have:
// build it once, so the quick start is `npm ci` then `npm run demo`. An existing build is kept
// (the test suite runs the demo while other tests read dist/).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.error('Building the package first (npm run build)...');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}
