/**
 * What `esxi-zfs status` calls unhealthy (exit 1) and what it only warns about. Pure: from the
 * inspection's result and the replication rows, at a given time.
 *
 * Problems: a host not connected or not answering; the passthrough device missing or not active;
 * the storage VM missing, not powered on or not answering SSH; an inventory datastore not mounted
 * or mounted with another access mode than the inventory's; any NFS datastore inaccessible; the
 * pool missing or not ONLINE; a dataset missing or not shared when the inventory shares it; a
 * replication whose last run failed, whose schedule is missing, or whose last success is older
 * than its schedule's period plus the margin.
 * Warnings: maintenance mode, a guest that does not show its address, a pool 80 % full or more, a
 * replica not received yet, a paused schedule (its age not judged), a scheduled run open without a
 * replication.
 */
import { formatBytes } from '../core/format';
import type { HostInspection } from '../core/status/shared';
import { formatDuration, type DatasetStatus } from './status';

export interface Finding {
  /** `vh1`, `vh1/uss1`, `uss1:sp1/nas/vol0`: what the finding is about. */
  subject: string;
  message: string;
}

export interface Findings {
  problems: Finding[];
  warnings: Finding[];
}

const FULL = 0.8;

export function hostFindings(h: HostInspection): Findings {
  const problems: Finding[] = [];
  const warnings: Finding[] = [];
  const problem = (subject: string, message: string) => problems.push({ subject, message });
  const warning = (subject: string, message: string) => warnings.push({ subject, message });

  if (h.esxi?.error !== undefined) problem(h.name, `vSphere did not answer: ${h.esxi.error}`);
  const esxi = h.esxi?.state;
  if (esxi) {
    if (esxi.connectionState !== 'connected') problem(h.name, `host is ${esxi.connectionState}, not connected`);
    if (esxi.inMaintenanceMode) warning(h.name, 'host is in maintenance mode');
    const devices = esxi.passthrough?.devices;
    if (devices && devices.length === 0) problem(h.name, 'no PCI device matches the inventory\'s passthrough device');
    else if (devices && !devices.some((d) => d.passthruActive)) {
      problem(h.name, `passthrough ${devices.map((d) => `${d.id} ${d.passthruEnabled ? 'enabled' : 'not enabled'}`).join(', ')} but not active (reboot the host, or run esxi-zfs passthrough)`);
    }
    const vm = esxi.storageVm;
    if (vm && !vm.found) problem(h.name, `no storage VM ${vm.name} on the host`);
    else if (vm && vm.powerState !== 'poweredOn') problem(h.name, `storage VM ${vm.name} is ${vm.powerState}`);
    for (const d of esxi.datastores) {
      if (d.expected && !d.mounted) problem(h.name, `datastore ${d.name} (${d.remote ?? d.type}) is not mounted`);
      else if (d.mounted && d.accessible === false) problem(h.name, `datastore ${d.name} is inaccessible${d.inaccessibleReason ? ` (${d.inaccessibleReason})` : ''}`);
      if (d.mounted && d.accessMode && d.expectedAccessMode && d.accessMode !== d.expectedAccessMode) {
        problem(h.name, `datastore ${d.name} is mounted ${d.accessMode}, the inventory says ${d.expectedAccessMode}`);
      }
    }
  }

  if (h.storageVm?.error !== undefined) problem(h.name, `storage VM could not be read: ${h.storageVm.error}`);
  const vm = h.storageVm?.state;
  if (vm) {
    const subject = `${h.name}/${vm.name}`;
    const expectedAddress = esxi?.storageVm?.found && esxi.storageVm.powerState === 'poweredOn' && !esxi.storageVm.guestAddresses.includes(vm.address);
    if (expectedAddress) warning(subject, `the guest does not show ${vm.address} (VMware Tools: ${esxi.storageVm!.guestAddresses.join(', ') || 'no address'})`);
    if (!vm.reachable) {
      problem(subject, `unreachable over SSH at ${vm.address}: ${vm.error ?? 'no answer'}`);
    } else {
      const pool = vm.pool;
      if (!pool) problem(subject, `pool ${vm.poolName} is not imported`);
      else {
        if (pool.health !== 'ONLINE') problem(subject, `pool ${pool.name} is ${pool.health}`);
        if (pool.sizeBytes > 0 && pool.allocatedBytes / pool.sizeBytes >= FULL) {
          warning(subject, `pool ${pool.name} is ${Math.round((100 * pool.allocatedBytes) / pool.sizeBytes)}% full (${formatBytes(pool.freeBytes)} free)`);
        }
      }
      for (const d of pool ? vm.datasets : []) {
        if (!d.exists && d.replicaOf) warning(subject, `replica ${d.name} of ${d.replicaOf} not received yet`);
        else if (!d.exists) problem(subject, `dataset ${d.name} does not exist`);
        else if (d.shared && d.sharenfs === undefined) problem(subject, `dataset ${d.name} is not shared (sharenfs off): its datastores cannot mount it`);
      }
    }
  }
  return { problems, warnings };
}

/** The last good replication older than its schedule's period plus `marginMs` is stale. */
export function replicationFindings(row: DatasetStatus, now: Date, marginMs: number): Findings {
  const problems: Finding[] = [];
  const warnings: Finding[] = [];
  const subject = `${row.host}:${row.dataset}`;
  const last = row.last;
  if (last && last.status !== 'COMPLETED') problems.push({ subject, message: `last replication ${last.status.toLowerCase()}${last.failure ? `: ${last.failure}` : ''}` });
  const s = row.schedule;
  if (!s && row.scheduleExpected) problems.push({ subject, message: 'no schedule in this namespace: run esxi-zfs schedules apply' });
  if (s?.paused) warnings.push({ subject, message: `schedule paused${s.note ? ` (${s.note})` : ''}` });
  if (s && s.running.length > 0 && !row.running) warnings.push({ subject, message: 'a scheduled run is open with no replication running (is a worker up?)' });
  // A paused schedule is deliberate (failover fences it): warned about above, its age not judged.
  if (s?.periodMs !== undefined && !s.paused) {
    const since = row.lastSuccessAt ?? s.createdAt;
    const age = now.getTime() - since.getTime();
    if (age > s.periodMs + marginMs) {
      const what = row.lastSuccessAt ? `last successful replication ${formatDuration(age)} ago` : `no successful replication in the ${formatDuration(age)} since the schedule was made`;
      problems.push({ subject, message: `${what}: more than the schedule's period (${formatDuration(s.periodMs)}) plus ${formatDuration(marginMs)}` });
    }
  }
  return { problems, warnings };
}

export function merge(all: Findings[]): Findings {
  return { problems: all.flatMap((f) => f.problems), warnings: all.flatMap((f) => f.warnings) };
}
