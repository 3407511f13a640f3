/**
 * The recoverDatastores runbook's contract: after a storage VM or its ESXi host rebooted, the NFS
 * datastores it serves stay inaccessible on the hosts that mounted them before it came back (ESXi's
 * NFS timeout passed with nothing answering). Wait until the VM's NFS server answers and exports
 * every share again (core/guest/storage/exports.ts), have each host refresh its storage, then check each datastore on each host: accessible
 * ones are reported, an inaccessible one is remounted only when no running VM has files on it;
 * one with running VMs is reported with their names and never touched.
 */
import { defineQuery } from '@temporalio/workflow';
import type { StepReport } from '../configure/shared';
import type { StorageHostRef } from '../hosts';
import type { EsxiHostRef } from '../passthrough/shared';
import type { NasMountSpec } from './shared';

export interface RecoverHost {
  host: EsxiHostRef;
  /** The storage VM's shares this host mounts, as registerDatastore mounted them. */
  mounts: NasMountSpec[];
}

export interface RecoverDatastoresInput {
  /** The storage VM whose shares these are. */
  vm: string;
  /** Reached over SSH: asked whether its NFS server answers on its storage address and what it exports. */
  storageHost: StorageHostRef;
  /** Every dataset mountpoint the hosts mount: each must be in the export table. */
  exports: string[];
  /** The NFS version the check asks the server for: 3 when a datastore mounts with NFS 3, else 4. */
  nfsVersion: 3 | 4;
  hosts: RecoverHost[];
  /** How long the exports may take to answer before the run fails (ms). */
  exportsTimeoutMs: number;
}

/** One look at the storage VM's NFS server. */
export interface ExportsCheck {
  /** The server answered and listed every export. */
  answered: boolean;
  /** The inventory's exports the server did not list. */
  missing: string[];
  /** What was seen, in words (the listed exports, or why nothing answered). */
  detail: string;
}

export type DatastoreState = 'accessible' | 'remounted' | 'inaccessible' | 'missing';

export interface DatastoreOutcome {
  datastore: string;
  /**
   * accessible: found accessible after the refresh; remounted: it was not, and RemoveDatastore +
   * CreateNasDatastore brought it back; inaccessible: still not (the reason says why: running VMs,
   * a refused remount); missing: not mounted on the host at all (registerDatastore mounts it).
   */
  state: DatastoreState;
  reason?: string;
  /** The running VMs that kept it from being remounted. */
  runningVms?: string[];
}

export interface HostRecovery {
  host: string;
  /** What the storage refresh did (RefreshStorageSystem, RefreshDatastore). */
  refresh?: StepReport;
  datastores: DatastoreOutcome[];
  /** The failure that stopped this host, when one did (the other hosts went on). */
  failed?: string;
}

export interface RecoverDatastoresResult {
  vm: string;
  exports: ExportsCheck;
  /** How many times the exports were asked for before they answered. */
  exportChecks: number;
  hosts: HostRecovery[];
}

export type RecoverDatastoresPhase = 'waitingForExports' | 'refreshing' | 'done';

/** What the progress query answers while the run goes on. */
export interface RecoverDatastoresProgress {
  phase: RecoverDatastoresPhase;
  /** When the exports wait gives up (ISO). */
  deadline: string;
  exportChecks: number;
  /** The last answer (or failure) of the storage VM's NFS server. */
  lastCheck?: string;
  /** Hosts done so far. */
  hosts: HostRecovery[];
}

/** One run per storage VM: the CLI and a parent runbook (as a child workflow) start it under this id. */
export const recoverWorkflowId = (vm: string) => `recover-datastores/${vm}`;

export const recoverDatastoresProgressQuery = defineQuery<RecoverDatastoresProgress>('recoverDatastoresProgress');

/** 15 minutes: a storage VM importing its pool after a host reboot takes minutes; the inventory may say otherwise. */
export const DEFAULT_EXPORTS_TIMEOUT = '15m';

/** A datastore as one host sees it. */
export interface DatastoreView {
  datastore: string;
  /** Absent: the host has no datastore of that name. */
  seen?: {
    /** `remoteHost:remotePath`, or what else it is. */
    export: string;
    /** This host's mount (`host[].mountInfo.accessible`; `summary.accessible` without it). */
    accessible: boolean;
    /** ESXi's inaccessibleReason (AllPathsDown_Timeout, ...). */
    reason?: string;
    /** The powered-on VMs with files on it. */
    runningVms: string[];
  };
}

export const exportOf = (m: NasMountSpec) => `${m.remoteHost}:${m.remotePath}`;

/**
 * What to do with a datastore the host sees as `view`: an outcome to report, or `remount` (only an
 * inaccessible datastore that is the inventory's export and has no running VM on it).
 */
export function decide(mount: NasMountSpec, view: DatastoreView, host: string): DatastoreOutcome | 'remount' {
  const { datastore } = mount;
  const seen = view.seen;
  if (!seen) return { datastore, state: 'missing', reason: `not mounted on ${host}: registerDatastore (esxi-zfs datastores) mounts it` };
  if (seen.export !== exportOf(mount)) {
    return { datastore, state: seen.accessible ? 'accessible' : 'inaccessible', reason: `it is ${seen.export}, the inventory's is ${exportOf(mount)}: not touched` };
  }
  if (seen.accessible) return { datastore, state: 'accessible' };
  if (seen.runningVms.length > 0) {
    return {
      datastore, state: 'inaccessible', runningVms: seen.runningVms,
      reason: `inaccessible${seen.reason ? ` (${seen.reason})` : ''} with running VMs on it (${seen.runningVms.join(', ')}): not remounted, ` +
        'a remount would pull their disks away; once they are stopped, run recover-datastores again',
    };
  }
  return 'remount';
}

export interface RecoverDatastoresActivities {
  /** One look, on the storage VM: NFS answers on its storage address, and its export table lists every export. */
  checkNfsExports(host: StorageHostRef, exports: string[], nfsVersion: 3 | 4): Promise<ExportsCheck>;
  /** RefreshStorageSystem on the host, then RefreshDatastore of each of these datastores it mounts. */
  refreshHostStorage(host: EsxiHostRef, datastores: string[]): Promise<StepReport>;
  /** Each mount's datastore as the host sees it now. */
  readNasDatastores(host: EsxiHostRef, mounts: NasMountSpec[]): Promise<DatastoreView[]>;
  /**
   * Reads the datastore again and, if `decide` still says so, RemoveDatastore then CreateNasDatastore
   * as it was (remote host, path, NFS version, access mode, name); otherwise reports what it found.
   */
  remountNasDatastore(host: EsxiHostRef, mount: NasMountSpec): Promise<DatastoreOutcome>;
}
