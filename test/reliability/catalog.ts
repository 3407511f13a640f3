/**
 * Every fault, hostile input and security property the reliability suite tries (issue 13), in the
 * order docs/reliability.md lists them. A test records its result under one of these ids
 * (test/helpers/reliability.ts); the report shows "not run" for an id that has no result, so a
 * case dropped from the suite cannot disappear from the report unnoticed.
 */
export type Section = 'Worker killed' | 'Temporal server restarted' | 'Network and endpoints' | 'Hosts and time' | 'Hostile output' | 'Security';

export interface CatalogEntry {
  id: string;
  section: Section;
  runbook: string;
  /** What is done to the system, as an operator would say it. */
  fault: string;
  /** Why the case cannot run on this machine at all (shown in the report instead of a result). */
  cannotRunHere?: string;
}

export const CATALOG: readonly CatalogEntry[] = [
  { id: 'worker-kill/replication-send', section: 'Worker killed', runbook: 'replicateDataset', fault: 'worker SIGKILLed during a long `zfs send`' },
  { id: 'worker-kill/prune', section: 'Worker killed', runbook: 'replicateDataset', fault: 'worker SIGKILLed while pruning snapshots' },
  { id: 'worker-kill/pool-create', section: 'Worker killed', runbook: 'configureStorage', fault: 'worker SIGKILLed while its `zpool create` runs' },
  { id: 'worker-kill/address-change', section: 'Worker killed', runbook: 'configureStorage', fault: 'worker SIGKILLed during the management address change (old address removed, timed revert armed)' },
  { id: 'worker-kill/reboot-wait', section: 'Worker killed', runbook: 'enablePassthrough', fault: 'worker SIGKILLed during the host reboot wait' },
  { id: 'worker-kill/build-storage-vm', section: 'Worker killed', runbook: 'buildStorageVm', fault: 'worker SIGKILLed as the storage VM is created (CreateVM_Task)' },
  { id: 'worker-kill/failover', section: 'Worker killed', runbook: 'failover', fault: 'worker SIGKILLed during a failover (its `zfs clone` of the replica)' },
  { id: 'worker-kill/failback', section: 'Worker killed', runbook: 'failback', fault: 'worker SIGKILLed during a failback (its `zfs promote` in the swap)' },

  { id: 'server-restart/reboot-wait', section: 'Temporal server restarted', runbook: 'enablePassthrough', fault: 'dev server stopped and started (same SQLite file) during the reboot wait' },
  { id: 'server-restart/replication', section: 'Temporal server restarted', runbook: 'replicateDataset', fault: 'dev server killed and restarted during a send' },
  { id: 'server-restart/configure', section: 'Temporal server restarted', runbook: 'configureStorage', fault: 'dev server killed and restarted during configureStorage' },
  { id: 'server-restart/provision', section: 'Temporal server restarted', runbook: 'provisionCluster', fault: 'dev server killed and restarted during provisionCluster' },
  { id: 'server-restart/failover', section: 'Temporal server restarted', runbook: 'failover', fault: 'dev server killed and restarted during a failover' },
  { id: 'server-restart/failback', section: 'Temporal server restarted', runbook: 'failback', fault: 'dev server killed and restarted during a failback' },
  { id: 'server-restart/recover-datastores', section: 'Temporal server restarted', runbook: 'recoverDatastores', fault: 'dev server killed and restarted while the run waits for the exports' },

  { id: 'ssh-cut/replication-stream', section: 'Network and endpoints', runbook: 'replicateDataset', fault: "the SSH session's sshd process killed mid-stream" },
  { id: 'ssh-stall/replication-stream', section: 'Network and endpoints', runbook: 'replicateDataset', fault: 'the stream stalls (no bytes) mid-send' },
  { id: 'storage-link-down/replication', section: 'Network and endpoints', runbook: 'replicateDataset', fault: "the target's storage NIC taken down for a while mid-send" },
  { id: 'vsphere-down/provision', section: 'Network and endpoints', runbook: 'enablePassthrough (provisionHost)', fault: 'the vSphere endpoint answering 503 for a while (at the start, and through the reboot)' },
  { id: 'vsphere-fault/reboot-task', section: 'Network and endpoints', runbook: 'enablePassthrough', fault: '`RebootHost_Task` answers a SystemError fault once' },
  { id: 'storage-host-down/replication', section: 'Network and endpoints', runbook: 'replicateDataset', fault: 'the target storage host down for the whole retry budget, then back' },

  { id: 'reboot-slow/passthrough', section: 'Hosts and time', runbook: 'enablePassthrough', fault: 'a reboot that takes 3x the expected time' },
  { id: 'reboot-never/passthrough', section: 'Hosts and time', runbook: 'enablePassthrough', fault: 'a host that never returns from its reboot (the signal path)' },
  { id: 'reboot-reverted/passthrough', section: 'Hosts and time', runbook: 'enablePassthrough', fault: 'a host that returns with passthrough reverted' },
  { id: 'clock-skew/ahead', section: 'Hosts and time', runbook: 'replicateDataset', fault: "the storage hosts' clocks hours ahead of the worker" },
  { id: 'clock-skew/behind', section: 'Hosts and time', runbook: 'replicateDataset', fault: "the storage hosts' clocks hours behind the worker" },
  { id: 'clock-skew/schedule', section: 'Hosts and time', runbook: 'scheduledReplication', fault: "a replication schedule firing while the storage hosts' clocks are hours ahead" },
  { id: 'fifty-datasets/one-target-down', section: 'Hosts and time', runbook: 'scheduledReplication', fault: '50 datasets on one host scheduled at the same minute, one target down' },

  { id: 'hostile/property-values', section: 'Hostile output', runbook: 'replicateDataset, configureStorage', fault: 'property values with tabs and newlines' },
  { id: 'hostile/snapshot-names', section: 'Hostile output', runbook: 'replicateDataset', fault: 'snapshot names with tabs, newlines and spaces in a listing' },
  { id: 'hostile/listing-cut-short', section: 'Hostile output', runbook: 'replicateDataset, configureStorage', fault: 'a `zfs list` / `zpool status` listing cut short' },
  { id: 'hostile/soap-unexpected-elements', section: 'Hostile output', runbook: 'vSphere runbooks', fault: 'a SOAP response with unexpected elements' },
  { id: 'hostile/task-fault', section: 'Hostile output', runbook: 'vSphere runbooks', fault: 'a vSphere task that ends in a fault' },
  { id: 'hostile/http-error-page', section: 'Hostile output', runbook: 'vSphere runbooks', fault: 'an HTTP error page instead of SOAP' },
  { id: 'hostile/http-broken-answers', section: 'Hostile output', runbook: 'vSphere runbooks', fault: 'a 500 HTML page, an empty 200, a truncated XML body, a connection dropped mid-body' },

  { id: 'hostkey/worker-to-host', section: 'Security', runbook: 'every SSH step', fault: "a storage host's SSH key changed (worker to host)" },
  { id: 'hostkey/host-to-host', section: 'Security', runbook: 'replicateDataset', fault: "the target's SSH key changed (source host to target host)" },
  { id: 'hostkey/vsphere-thumbprint', section: 'Security', runbook: 'vSphere runbooks', fault: "the vSphere endpoint's certificate changed (thumbprint)" },
  { id: 'secrets/histories-logs-output', section: 'Security', runbook: 'the demo runbook', fault: 'every history, the worker log and the CLI output scanned for private keys and the vSphere password' },
  { id: 'codec/history-ciphertext', section: 'Security', runbook: 'any', fault: 'a history read without the codec key, and with it' },
  { id: 'replication-user/destroy', section: 'Security', runbook: 'replication trust', fault: 'the replication user tries to destroy a dataset or snapshot' },
  { id: 'replication-user/rollback', section: 'Security', runbook: 'replication trust', fault: 'the replication user tries to roll a dataset back' },
  { id: 'replication-user/rename', section: 'Security', runbook: 'replication trust', fault: 'the replication user tries to rename a dataset' },
  { id: 'replication-user/read-other', section: 'Security', runbook: 'replication trust', fault: 'the replication user tries to read (send) a dataset that is not its target' },
  { id: 'replication-user/receive-other', section: 'Security', runbook: 'replication trust', fault: 'the replication user tries to receive into a dataset that is not its target' },
  { id: 'replication-user/shell', section: 'Security', runbook: 'replication trust', fault: 'the replication user asks for a shell' },
  { id: 'replication-user/port-forward', section: 'Security', runbook: 'replication trust', fault: 'the replication user asks for a port forward' },
  { id: 'replication-user/other-command', section: 'Security', runbook: 'replication trust', fault: 'the replication user runs another command through the forced command' },
  { id: 'audit/npm', section: 'Security', runbook: '-', fault: '`npm audit --omit=dev`', cannotRunHere: 'the npm registry reachable from this machine answers npm audit\'s advisory endpoints (`/-/npm/v1/security/advisories/bulk`, `/audits/quick`) with HTTP 405, and no offline advisory database is available; run `npm audit --omit=dev` where registry.npmjs.org answers (README, Secrets and dependency audits)' },
  { id: 'audit/govulncheck', section: 'Security', runbook: '-', fault: '`govulncheck` on the simulator module' },
];
