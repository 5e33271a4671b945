// Small helpers for the consumer suite: run a command, record a check, print a summary.
import { spawn } from 'node:child_process';
import path from 'node:path';

/** The environment every command gets: this Node first on PATH, npm quiet and without prompts. */
export function baseEnv(extra = {}) {
  const PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`;
  return {
    ...process.env,
    PATH,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}

/** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
export function run(command, args, { cwd, env = {}, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, command: [command, ...args].join(' ') });
    });
  });
}

/** Like run, but throws with the command's output when it exits non-zero. */
export async function mustRun(command, args, options) {
  const result = await run(command, args, options);
  if (result.code !== 0)
    throw new Error(`\`${result.command}\` exited ${result.code}\n${tail(result.stdout + result.stderr)}`);
  return result;
}

export function tail(text, lines = 40) {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Collects named checks, printing PASS/FAIL as each ends. */
export class Checks {
  results = [];

  async check(name, work) {
    const started = Date.now();
    try {
      const note = await work();
      this.results.push({ name, ok: true });
      console.log(`PASS ${name}${note ? ` — ${note}` : ''} (${Math.round((Date.now() - started) / 1000)} s)`);
    } catch (error) {
      this.results.push({ name, ok: false });
      console.log(`FAIL ${name}\n${indent(error instanceof Error ? error.message : String(error))}`);
    }
  }

  /** Records a check that cannot run here, with the reason. */
  skip(name, reason) {
    console.log(`SKIP ${name} — ${reason}`);
  }

  summary() {
    const failed = this.results.filter((result) => !result.ok);
    console.log(`\n${this.results.length - failed.length} passed, ${failed.length} failed`);
    for (const result of failed) console.log(`  failed: ${result.name}`);
    return failed.length === 0;
  }
}

function indent(text) {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

/** Runs work over items, at most `size` at a time. */
export async function inBatches(items, size, work) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (queue.length > 0) await work(queue.shift());
    }),
  );
}
