/** Where the reliability cases' results live, and their shape (written by test/helpers/reliability.ts). */
import * as path from 'node:path';

export const RESULTS_DIR = path.join(__dirname, '../../docs/reliability/results');
export const REPORT_FILE = path.join(__dirname, '../../docs/reliability.md');

export interface CaseResult {
  id: string;
  /** The name of the test that ran the case. */
  test: string;
  result: 'passed' | 'failed';
  /** The failure's first line, when failed. */
  error?: string;
  happened: string;
  verified: string[];
  /** From the end of the fault to the run's completion; null where the case has no recovery. */
  recoverySeconds: number | null;
  /** The whole test, set-up included. */
  seconds: number;
  ranAt: string;
}

export function resultFile(id: string): string {
  return `${id.replace(/\//g, '--')}.json`;
}
