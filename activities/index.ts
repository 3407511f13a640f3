/** Every activity the worker registers, built from the dependencies they share. */
import type { SshPool } from './ssh';
import { createProbeActivities } from './guest/probe';

export interface ActivityDeps {
  pool: SshPool;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createProbeActivities(deps),
  };
}
