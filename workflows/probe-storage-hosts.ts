import { proxyActivities } from '@temporalio/workflow';
import type { createProbeActivities, StorageHostFacts } from '../activities/guest/probe';
import type { StorageHostRef } from '../core/hosts';

const { probeStorageHost } = proxyActivities<ReturnType<typeof createProbeActivities>>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 3 },
});

/** Read every storage host's OS, ZFS version, pools and disks, in parallel. */
export async function probeStorageHosts(input: { hosts: StorageHostRef[] }): Promise<StorageHostFacts[]> {
  return Promise.all(input.hosts.map((host) => probeStorageHost(host)));
}
