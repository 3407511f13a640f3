/** Every activity the worker registers, built from the dependencies they share. */
import type { SshPool } from './ssh';
import { createProbeActivities } from './guest/probe';
import { createDatasetActivities } from './replication/datasets';
import { createTransferActivities } from './replication/transfer';
import { createResumeActivities } from './replication/resume';

export interface ActivityDeps {
  pool: SshPool;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createProbeActivities(deps),
    ...createDatasetActivities(deps),
    ...createTransferActivities(deps),
    ...createResumeActivities(deps),
  };
}
