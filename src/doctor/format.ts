import type { Diagnosis, Severity } from './findings.js';

const LABEL: Record<Severity, string> = { ok: 'ok     ', warning: 'WARNING', error: 'ERROR  ' };

/** The findings as a person reads them: worst first, each with what to run to fix it. */
export function formatDiagnosis(diagnosis: Diagnosis): string {
  const order: Severity[] = ['error', 'warning', 'ok'];
  const sorted = [...diagnosis.findings].sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity));
  const lines = [`pg-sync-link doctor: PostgreSQL ${diagnosis.serverVersion}`, ''];
  for (const item of sorted) {
    lines.push(`${LABEL[item.severity]} [${item.check}] ${item.subject}: ${item.message}`);
    if (item.fix) lines.push(`        fix: ${item.fix}`);
  }
  const count = (severity: Severity) => diagnosis.findings.filter((item) => item.severity === severity).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push(
    '',
    `${plural(count('error'), 'error')}, ${plural(count('warning'), 'warning')}, ${count('ok')} ok (exit code ${diagnosis.exitCode}).`,
  );
  return lines.join('\n');
}
