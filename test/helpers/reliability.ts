/**
 * Records a reliability case's outcome for docs/reliability.md (issue 13): the test body gets a
 * recorder, says what happened, what it verified and how long recovery took, and the result (passed
 * or failed, with the failure's first line) is written to docs/reliability/results/<id>.json when
 * the body ends. The report is generated from these files only (test/reliability/report.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { CATALOG } from '../reliability/catalog';
import { RESULTS_DIR, resultFile, type CaseResult } from '../reliability/results';

export interface FaultRecorder {
  /** What the system did in answer to the fault, in a sentence. */
  happened(text: string): void;
  /** One property checked after the fault (the data, no duplicate, a clear message). */
  verified(text: string): void;
  /** Starts the recovery clock: call it when the fault is over (worker restarted, link back up). */
  recoveryStarted(): void;
  /** Stops the recovery clock: call it when the run has completed (or the clear failure arrived). */
  recovered(): void;
}

/** The body of a `test(...)` that records its result under `id` (an id of test/reliability/catalog.ts). */
export function recorded(id: string, body: (r: FaultRecorder, t: TestContext) => Promise<void>): (t: TestContext) => Promise<void> {
  if (!CATALOG.some((c) => c.id === id)) throw new Error(`reliability case ${id} is not in test/reliability/catalog.ts`);
  return async (t) => {
    const started = Date.now();
    const happened: string[] = [];
    const verified: string[] = [];
    let recoveryFrom: number | undefined;
    let recoverySeconds: number | null = null;
    const recorder: FaultRecorder = {
      happened: (text) => void happened.push(text),
      verified: (text) => void verified.push(text),
      recoveryStarted: () => void (recoveryFrom = Date.now()),
      recovered: () => {
        if (recoveryFrom === undefined) throw new Error('recovered() before recoveryStarted()');
        recoverySeconds = Math.round((Date.now() - recoveryFrom) / 100) / 10;
      },
    };
    const write = (outcome: Pick<CaseResult, 'result' | 'error'>) => {
      const result: CaseResult = {
        id,
        test: t.name,
        ...outcome,
        happened: happened.join(' '),
        verified,
        recoverySeconds,
        seconds: Math.round((Date.now() - started) / 100) / 10,
        ranAt: new Date().toISOString(),
      };
      mkdirSync(RESULTS_DIR, { recursive: true });
      writeFileSync(path.join(RESULTS_DIR, resultFile(id)), `${JSON.stringify(result, null, 2)}\n`);
    };
    try {
      await body(recorder, t);
    } catch (err) {
      write({ result: 'failed', error: String((err as Error)?.message ?? err).split('\n')[0] });
      throw err;
    }
    write({ result: 'passed' });
  };
}
