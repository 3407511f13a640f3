/** What the replication lab tests share: a script on a lab host, and a job per scenario dataset. */
import assert from 'node:assert/strict';
import { labExec, type LabHostState } from '../../lab/lab';
import type { ReplicationJob } from '../../core/replication/shared';

/** `sh -c script` on a lab host as root; its stdout, or the test fails naming the host and the script. */
export async function on(host: LabHostState, script: string, input?: string): Promise<string> {
  const result = await labExec(host, ['sh', '-c', script], input === undefined ? {} : { input });
  assert.equal(result.code, 0, `${host.name}: ${script}\n${result.stderr}`);
  return result.stdout;
}

/** The lab inventory's job for scenario `name`: sp1/t/NAME to sp2/r/NAME, no retention, quick retries. */
export function scenarioJob(template: ReplicationJob, name: string, changes: Partial<ReplicationJob> = {}): ReplicationJob {
  return {
    ...template,
    source: { ...template.source, dataset: `sp1/t/${name}` },
    target: { ...template.target, dataset: `sp2/r/${name}` },
    retention: {},
    retry: { maximumAttempts: 5, initialIntervalMs: 500, maximumIntervalMs: 2000 },
    ...changes,
  };
}
