/** What an inventory will build, as data (for `validate --json`) and as text. */
import { vdevKind, type Inventory, type SelectorValue, type StorageVm, type VdevValue } from './schema';

export interface BuildPlan {
  hosts: {
    name: string;
    passthrough?: string;
    storageVm?: {
      name: string;
      os: string;
      pool: string;
      datasets: { name: string; share?: string; datastore?: string; replicateTo?: string }[];
    };
  }[];
  replications: { source: string; target: string; schedule: string }[];
}

export function nfsShareOptions(share: { rw: boolean | string[]; ro?: string[]; nosuid: boolean; root: string[] }): string {
  const options = [share.rw === true ? 'rw' : share.rw === false ? 'ro' : `rw=${share.rw.join(':')}`];
  if (share.ro?.length) options.push(`ro=${share.ro.join(':')}`);
  if (share.nosuid) options.push('nosuid');
  if (share.root.length > 0) options.push(`root=${share.root.join(':')}`);
  return options.join(',');
}

function selector(d: SelectorValue): string {
  if (d.disk !== undefined) return d.disk;
  const size = d.size && [d.size.min && `>=${d.size.min}`, d.size.max && `<=${d.size.max}`].filter(Boolean).join(' ');
  return `(${[d.model && `model ${d.model}`, d.serial && `serial ${d.serial}`, size && `size ${size}`].filter(Boolean).join(', ')})`;
}

function vdevs(list: VdevValue[] | undefined): string {
  return (list ?? []).map((v) => {
    const kind = vdevKind(v);
    return kind === 'disk' ? selector(v) : `${kind} ${v[kind]!.map(selector).join(' ')}`;
  }).join(' ');
}

/** The pool as `zpool create` would read it, disks chosen by what they report in parentheses. */
function poolLayout(pool: StorageVm['pool']): string {
  const disks = (list: SelectorValue[] | undefined) => (list ?? []).map(selector).join(' ');
  return [
    pool.name,
    vdevs(pool.data),
    pool.log?.length ? `log ${vdevs(pool.log)}` : '',
    pool.cache?.length ? `cache ${disks(pool.cache)}` : '',
    pool.spares?.length ? `spare ${disks(pool.spares)}` : '',
  ].filter(Boolean).join(' ');
}

export function buildPlan(inventory: Inventory): BuildPlan {
  const plan: BuildPlan = { hosts: [], replications: [] };
  for (const host of inventory.hosts) {
    const device = host.passthrough?.device;
    const vm = host.storageVm;
    plan.hosts.push({
      name: host.name,
      passthrough: device
        ? device.address ?? [device.vendorId && `vendor ${device.vendorId}`, device.deviceId && `device ${device.deviceId}`, device.classId && `class ${device.classId}`].filter(Boolean).join(' ')
        : undefined,
      storageVm: vm && {
        name: vm.name,
        os: vm.os,
        pool: poolLayout(vm.pool),
        datasets: vm.datasets.map((d) => ({
          name: d.name,
          share: d.share && nfsShareOptions(d.share),
          datastore: d.datastore && `${d.datastore.name} on ${d.datastore.mountOn.join(', ')}`,
          replicateTo: d.replicateTo && `${d.replicateTo.vm}:${d.replicateTo.dataset}`,
        })),
      },
    });
    for (const d of vm?.datasets ?? []) {
      if (!d.replicateTo) continue;
      const schedule = d.replicateTo.schedule ?? inventory.replication.schedule;
      plan.replications.push({
        source: `${vm!.name}:${d.name}`,
        target: `${d.replicateTo.vm}:${d.replicateTo.dataset}`,
        schedule: schedule ? `${schedule.cron} ${schedule.timezone}` : 'on demand (no schedule)',
      });
    }
  }
  return plan;
}

export function formatPlan(plan: BuildPlan): string {
  const lines: string[] = [];
  for (const host of plan.hosts) {
    lines.push(`ESXi host ${host.name}${host.passthrough ? `: passthrough ${host.passthrough}` : ''}`);
    const vm = host.storageVm;
    if (!vm) continue;
    lines.push(`  storage VM ${vm.name} (${vm.os}): zpool create ${vm.pool}`);
    for (const d of vm.datasets) {
      lines.push(`    dataset ${d.name}${d.share ? ` sharenfs=${d.share}` : ''}${d.datastore ? `, datastore ${d.datastore}` : ''}`);
    }
  }
  if (plan.replications.length > 0) lines.push('replication:');
  for (const r of plan.replications) lines.push(`  ${r.source} -> ${r.target} (${r.schedule})`);
  return lines.join('\n');
}
