/** Every activity the worker registers, built from the dependencies they share. */
import type { Client } from '@temporalio/client';
import type { Transport } from './transport';
import { createProbeActivities } from './guest/probe';
import { createTrustActivities } from './guest/trust';
import { createDatasetActivities } from './replication/datasets';
import { createTransferActivities } from './replication/transfer';
import { createResumeActivities } from './replication/resume';
import { createCloneActivities } from './replication/clone';
import { createConfigureActivities } from './guest/configure';
import { createDatastoreActivities } from './vsphere/datastore';
import { createNfsExportsActivities } from './guest/nfs-exports';
import { createRecoverActivities } from './vsphere/recover';
import { createPassthroughActivities } from './vsphere/passthrough';
import { createStorageVmActivities } from './vsphere/storage-vm';
import type { VsphereSessions } from './vsphere/sessions';
import { heartbeating } from './heartbeat';
import { createScheduleActivities } from './schedules/activities';
import { createFailoverStorageActivities } from './failover/storage';
import { createDatastoreUnmountActivities } from './vsphere/datastore-unmount';
import { createInspectStorageActivities } from './guest/inspect';
import { createInspectEsxiActivities } from './vsphere/inspect';

export interface ActivityDeps {
  /** How activities reach a storage VM. */
  transport: Transport;
  /** How activities reach vCenter or an ESXi host. */
  sessions: VsphereSessions;
  /** The worker's own Temporal client: runbooks that manage schedules. */
  temporal: Client;
}

/** Each heartbeats while it runs (heartbeating): a dead worker's step is retried after its heartbeat timeout. */
export function createActivities(deps: ActivityDeps) {
  return heartbeating({
    ...createProbeActivities(deps),
    ...createTrustActivities(deps),
    ...createDatasetActivities(deps),
    ...createTransferActivities(deps),
    ...createResumeActivities(deps),
    ...createCloneActivities(deps),
    ...createConfigureActivities(deps),
    ...createPassthroughActivities(deps),
    ...createStorageVmActivities(deps),
    ...createDatastoreActivities(deps),
    ...createNfsExportsActivities(deps),
    ...createRecoverActivities(deps),
    ...createScheduleActivities(deps),
    ...createFailoverStorageActivities(deps),
    ...createDatastoreUnmountActivities(deps),
    ...createInspectStorageActivities(deps),
    ...createInspectEsxiActivities(deps),
  });
}
