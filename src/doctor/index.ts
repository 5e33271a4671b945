export { diagnose, type DiagnoseOptions } from './diagnose.js';
export { formatDiagnosis } from './format.js';
export type { Diagnosis, Finding, Severity, DoctorCheck } from './findings.js';
