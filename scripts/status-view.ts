/**
 * `esxi-zfs status` in one view: the live cluster as inspectCluster read it (hosts, storage VMs,
 * pools, datasets, datastores) merged with the replication status read from Temporal, judged
 * (status-health.ts), as tables or as JSON of a documented shape (README, "status").
 */
import { formatBytes } from '../core/format';
import type { HostInspection, InspectClusterResult } from '../core/status/shared';
import { hostFindings, merge, replicationFindings, type Finding } from './status-health';
import { formatRelative, formatStatusTable, renderTable, statusToJson, type DatasetStatus } from './status';

/** What the worker's inspection gave: its result, or why there is none (no worker, timed out). */
export interface LiveInspection {
  workflowId: string;
  result?: InspectClusterResult;
  error?: string;
}

export interface ClusterStatus {
  checkedAt: Date;
  /** Absent without an inventory, or with --replication-only. */
  live?: LiveInspection;
  replication: DatasetStatus[];
  problems: Finding[];
  warnings: Finding[];
  healthy: boolean;
}

export function clusterStatus(input: { now: Date; live?: LiveInspection; replication: DatasetStatus[]; marginMs: number }): ClusterStatus {
  const { now, live, replication, marginMs } = input;
  const findings = merge([
    ...(live?.error !== undefined ? [{ problems: [{ subject: 'inspection', message: `the live state was not read: ${live.error}` }], warnings: [] }] : []),
    ...(live?.result?.hosts ?? []).map(hostFindings),
    ...replication.map((row) => replicationFindings(row, now, marginMs)),
  ]);
  return { checkedAt: now, ...(live && { live }), replication, ...findings, healthy: findings.problems.length === 0 };
}

const yesNo = (value: boolean | undefined) => (value === undefined ? '?' : value ? 'yes' : 'no');
const failed = (error: string) => `not read: ${error.split('\n')[0]!.slice(0, 120)}`;

function hostRow(h: HostInspection): string[] {
  const esxi = h.esxi?.state;
  const vm = esxi?.storageVm;
  const ssh = h.storageVm?.state;
  const passthrough = esxi?.passthrough?.devices.map((d) => `${d.id} ${d.passthruActive ? 'active' : d.passthruEnabled ? 'enabled, not active' : 'not enabled'}`).join(', ');
  return [
    h.name,
    h.esxi?.error !== undefined ? failed(h.esxi.error) : esxi ? esxi.connectionState : '-',
    esxi ? yesNo(esxi.inMaintenanceMode) : '-',
    esxi?.passthrough ? passthrough || 'no matching device' : '-',
    vm?.name ?? ssh?.name ?? '-',
    vm ? (vm.found ? vm.powerState ?? '?' : 'missing') : '-',
    vm?.guestAddresses.join(' ') || '-',
    h.storageVm?.error !== undefined ? failed(h.storageVm.error) : ssh ? (ssh.reachable ? `ok (${ssh.address})` : `unreachable (${ssh.address})`) : '-',
  ];
}

/** The tables (hosts, datastores, pools, datasets, replication), then problems and warnings. */
export function formatClusterStatus(status: ClusterStatus): string {
  const now = status.checkedAt;
  const sections: string[] = [];
  const hosts = status.live?.result?.hosts ?? [];
  if (status.live?.error !== undefined) sections.push(`live state not read (${status.live.workflowId}): ${status.live.error}`);
  if (hosts.length > 0) {
    sections.push(renderTable(['HOST', 'ESXI', 'MAINT', 'PASSTHROUGH', 'STORAGE VM', 'POWER', 'GUEST', 'SSH'], hosts.map(hostRow)));
    const datastores = hosts.flatMap((h) => (h.esxi?.state?.datastores ?? []).map((d) => [
      h.name, d.name, d.remote ?? d.type, d.expected ? 'inventory' : 'other', yesNo(d.mounted), d.mounted ? d.accessMode ?? '?' : '-',
      d.mounted ? `${yesNo(d.accessible)}${d.inaccessibleReason ? ` (${d.inaccessibleReason})` : ''}` : '-',
    ]));
    if (datastores.length > 0) sections.push(renderTable(['HOST', 'DATASTORE', 'REMOTE', 'LISTED', 'MOUNTED', 'MODE', 'ACCESSIBLE'], datastores));
    const vms = hosts.flatMap((h) => (h.storageVm?.state?.reachable ? [h.storageVm.state] : []));
    if (vms.length > 0) {
      sections.push(renderTable(['VM', 'POOL', 'HEALTH', 'SIZE', 'ALLOC', 'FREE', 'LOG', 'CACHE'], vms.map((vm) => {
        const p = vm.pool;
        return p
          ? [vm.name, p.name, p.health, formatBytes(p.sizeBytes), formatBytes(p.allocatedBytes), formatBytes(p.freeBytes), p.log.join(' ') || '-', p.cache.join(' ') || '-']
          : [vm.name, vm.poolName, 'not imported', '-', '-', '-', '-', '-'];
      })));
      const datasets = vms.flatMap((vm) => vm.datasets.map((d) => [
        vm.name,
        d.replicaOf ? `${d.name} (replica of ${d.replicaOf})` : d.name,
        d.exists ? formatBytes(d.usedBytes ?? 0) : 'missing',
        d.exists ? formatBytes(d.availableBytes ?? 0) : '-',
        d.mountpoint ?? '-',
        d.exists ? d.sharenfs ?? 'off' : '-',
        d.newestSnapshot ? `@${d.newestSnapshot.name} (${formatRelative(new Date(d.newestSnapshot.creation * 1000), now)})` : d.exists ? 'none' : '-',
      ]));
      if (datasets.length > 0) sections.push(renderTable(['VM', 'DATASET', 'USED', 'AVAIL', 'MOUNTPOINT', 'SHARENFS', 'NEWEST SNAPSHOT'], datasets));
    }
  }
  sections.push(formatStatusTable(status.replication, now));
  const list = (title: string, findings: Finding[]) => (findings.length > 0 ? [`${title}:\n${findings.map((f) => `  ${f.subject}: ${f.message}`).join('\n')}`] : []);
  sections.push(...list('problems', status.problems), ...list('warnings', status.warnings));
  sections.push(status.healthy ? 'healthy' : `unhealthy: ${status.problems.length} problem(s)`);
  return sections.join('\n\n');
}

/** `status --json`: plain values, ISO times. The shape is documented in README ("status"). */
export function clusterStatusToJson(status: ClusterStatus): object {
  return {
    healthy: status.healthy,
    checkedAt: status.checkedAt.toISOString(),
    problems: status.problems,
    warnings: status.warnings,
    inspection: status.live ? { workflowId: status.live.workflowId, ...(status.live.error !== undefined && { error: status.live.error }) } : null,
    hosts: status.live?.result?.hosts ?? [],
    replication: statusToJson(status.replication, status.checkedAt),
  };
}
