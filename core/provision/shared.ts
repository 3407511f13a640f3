/**
 * The provisioning runbooks' contract: provisionHost (one ESXi host and its storage VM, the
 * runbook from top to bottom) and provisionCluster (every host side by side, then the shares
 * mounted on every host that lists them, replication trust for the ring and the schedules).
 * Each step is one of the runbooks that also run alone, as a child workflow under the id its own
 * command uses, so a step's history is the same wherever it was started from.
 */
import { defineQuery } from '@temporalio/workflow';
import type { StepReport } from '../configure/shared';
import type { ConfigureStorageInput } from '../configure/shared';
import { recoverWorkflowId, type RecoverDatastoresInput } from '../datastore/recover';
import type { RegisterDatastoreInput, StorageNetworkSpec } from '../datastore/shared';
import type { EnablePassthroughInput, EsxiHostRef } from '../passthrough/shared';
import type { ReplicationJob } from '../replication/shared';
import type { BuildStorageVmInput } from '../storage-vm/shared';
import type { SetupReplicationTrustInput } from '../trust/shared';

/** Each runbook's workflow id: the same whether its own command or a provisioning run starts it. */
export const WorkflowIds = {
  enablePassthrough: (host: string) => `enable-passthrough/${host}`,
  buildStorageVm: (host: string) => `build-storage-vm/${host}`,
  configureStorage: (vm: string) => `configure-storage/${vm}`,
  registerDatastore: (vm: string) => `register-datastore/${vm}`,
  recoverDatastores: recoverWorkflowId,
  setupReplicationTrust: 'setup-replication-trust',
  provisionHost: (host: string) => `provision-host/${host}`,
  /** One namespace holds one inventory (as its schedules do): one cluster run at a time. */
  provisionCluster: 'provision-cluster',
} as const;

/**
 * Per host, the runbook's order. The storage network comes before the VM: the VM's second NIC
 * needs the storage port group (registerDatastore's first step, run early on this host alone).
 * recoverDatastores runs only when this run rebooted a host whose VM's datastores were mounted
 * before: they came back before their storage VM did (the all-in-one design's daily pain).
 */
export const PROVISION_HOST_STEPS = ['enablePassthrough', 'configureStorageNetwork', 'buildStorageVm', 'configureStorage', 'registerDatastore', 'recoverDatastores'] as const;
export type ProvisionHostStep = (typeof PROVISION_HOST_STEPS)[number];

/**
 * done: ran to its end (`changed` says whether it changed anything); skipped: the inventory asks
 * for nothing there; failed; waiting: running; notRun: an earlier step failed.
 */
export type StepState = 'done' | 'skipped' | 'failed' | 'running' | 'pending' | 'notRun';

export interface StepOutcome<S extends string = string> {
  step: S;
  state: StepState;
  /** Workflow time (ISO 8601). */
  startedAt?: string;
  endedAt?: string;
  /** What the step changed, one line each (empty: everything was in place). */
  changed: string[];
  warnings: string[];
  /** Why it failed or was skipped. */
  reason?: string;
  /** The child run that did it, for the UI. */
  workflowId?: string;
}

export interface ProvisionHostInput {
  /** The ESXi host. */
  host: string;
  /** Its storage VM. */
  vm: string;
  /** The storage VM is built with the host's passthrough device: always there. */
  passthrough: EnablePassthroughInput;
  /** Absent: the host's storage network is not the inventory's to make. */
  storageNetwork?: { host: EsxiHostRef; network: StorageNetworkSpec };
  storageVm: BuildStorageVmInput;
  configure: ConfigureStorageInput;
  /** The VM's shares, mounted on this ESXi host only (the cluster mounts them on the others); no storage network (a step of its own). */
  datastores?: RegisterDatastoreInput;
  /** The VM's shares on every host that mounts them, for recoverDatastores after a reboot; absent: no share is a datastore. */
  recover?: RecoverDatastoresInput;
}

export interface ProvisionHostResult {
  host: string;
  vm: string;
  steps: StepOutcome<ProvisionHostStep>[];
  /** The step that failed, when one did (the steps after it did not run). */
  failed?: ProvisionHostStep;
}

export interface ProvisionHostStatus extends ProvisionHostResult {
  /** The step running now. */
  current?: ProvisionHostStep;
}

export const provisionHostStatusQuery = defineQuery<ProvisionHostStatus>('provisionHostStatus');

export const PROVISION_CLUSTER_STEPS = ['provisionHosts', 'registerDatastores', 'setupReplicationTrust', 'applyReplicationSchedules'] as const;
export type ProvisionClusterStep = (typeof PROVISION_CLUSTER_STEPS)[number];

export interface ProvisionClusterInput {
  hosts: ProvisionHostInput[];
  /** Every VM's shares on the other hosts the inventory lists for them (its own host mounts them in its provisionHost). */
  datastores: RegisterDatastoreInput[];
  /** Absent: no dataset is replicated. */
  trust?: SetupReplicationTrustInput;
  schedules: ReplicationJob[];
}

export interface ProvisionClusterResult {
  hosts: ProvisionHostResult[];
  /** The cluster's own steps after the hosts: what each did, or why it was skipped (hosts that failed). */
  steps: StepOutcome<ProvisionClusterStep>[];
  /** `host: step: reason`, one per failure; empty: everything is in place. */
  failures: string[];
}

export interface ProvisionClusterStatus {
  hosts: { host: string; vm: string; state: StepState; failed?: ProvisionHostStep; workflowId: string }[];
  steps: StepOutcome<ProvisionClusterStep>[];
}

export const provisionClusterStatusQuery = defineQuery<ProvisionClusterStatus>('provisionClusterStatus');

/** One line per change or warning, for a step's outcome. */
export function outcomeOf(report: StepReport): Pick<StepOutcome, 'changed' | 'warnings'> {
  return { changed: [...report.changed], warnings: [...report.warnings] };
}
