/**
 * The lab's inventory (apiVersion esxi-zfs/v1): one ESXi host vhN per lab host, its storage VM is
 * the lab host, pool spN on the lab's disks, one dataset per host replicated to the next host (the
 * last to the first): a ring.
 */
import YAML from 'yaml';

export interface InventoryHost {
  name: string;
  address: string;
  /** Its eth1 on the storage bridge, once configureStorage has configured it. */
  storageAddress: string;
  /** The VMkernel address of its ESXi host vh<j+1> on the storage bridge (the lab's hypervisor namespace). */
  vmkernelAddress: string;
  hostKey: string;
  disks: { path: string; role: 'data' | 'log' | 'cache' }[];
}

export const LAB_CREDENTIAL = 'lab-root';
export const LAB_DISK_DIRECTORY = '/srv/disks';

export function labInventory(opts: { privateKeyFile: string; prefixLength: number; hosts: InventoryHost[] }): unknown {
  const { hosts } = opts;
  const esxi = hosts.map((_, j) => `vh${j + 1}`);
  const pool = (j: number) => `sp${j + 1}`;
  const vdevs = (h: InventoryHost, role: 'data' | 'log' | 'cache') =>
    h.disks.filter((d) => d.role === role).map((d) => ({ disk: d.path }));
  return {
    apiVersion: 'esxi-zfs/v1',
    credentials: { [LAB_CREDENTIAL]: { user: 'root', privateKeyFile: opts.privateKeyFile } },
    replication: {
      user: 'zfsadm',
      schedule: { cron: '59 23 * * *', timezone: 'America/Chicago' },
      send: ['properties'],
      retention: { daily: 7, weekly: 4 },
    },
    hosts: hosts.map((h, j) => {
      const next = hosts.length > 1 ? (j + 1) % hosts.length : undefined;
      // As in the runbook (uss1's sp1/nas/vol0 -> uss2's sp2/nas/vol0, uss2's sp2/nas/vol1 -> uss1's
      // sp1/nas/vol1): host j owns vol<j> and its replica keeps that name in the next host's pool,
      // so no replica lands on a dataset its host owns.
      // Read-write for every hypervisor, root kept for the host's own (the others are squashed); the
      // lab's "outsider" address is on no list. The runbook keeps root for every hypervisor.
      const dataset: Record<string, unknown> = {
        name: `${pool(j)}/nas/vol${j}`,
        mountpoint: `/export/${h.name}-nas-vol${j}`,
        share: { rw: esxi.map((e) => `${e}-nas`), nosuid: true, root: [`${esxi[j]}-nas`] },
      };
      if (next !== undefined) dataset.replicateTo = { vm: hosts[next]!.name, dataset: `${pool(next)}/nas/vol${j}` };
      return {
        name: esxi[j],
        storageNetwork: { vswitch: 'vSwitch1', portGroup: 'eSAN', vmkernel: { name: 'eSAN-Interface1', address: `${h.vmkernelAddress}/${opts.prefixLength}` } },
        storageVm: {
          name: h.name,
          os: 'linux',
          cpus: 2,
          memoryGiB: 4,
          // The runbook's two NICs: management (the lab's eth0, set up by its installer) and storage
          // traffic only (eth1 on the storage bridge, blank until configureStorage gives it its
          // address). Replication runs on the storage one.
          nics: [
            { portGroup: 'VM Network', device: 'eth0', address: `${h.address}/${opts.prefixLength}` },
            { portGroup: 'eSAN', device: 'eth1', address: `${h.storageAddress}/${opts.prefixLength}` },
          ],
          diskDirectory: LAB_DISK_DIRECTORY,
          ssh: { address: h.address, credentials: LAB_CREDENTIAL, hostKey: h.hostKey },
          pool: { name: pool(j), data: vdevs(h, 'data'), log: vdevs(h, 'log'), cache: vdevs(h, 'cache') },
          datasets: [dataset],
        },
      };
    }),
  };
}

/** Keys whose values read best on one line, as in the runbook's example inventory. */
const FLOW = new Set(['schedule', 'send', 'retention', 'ssh', 'data', 'log', 'cache', 'share', 'replicateTo', 'storageNetwork', 'passthrough', 'bootDisk', 'datastore']);

/** Values quoted as in the example inventory (a cron line, a key). */
const QUOTED = new Set(['cron', 'hostKey']);

export function inventoryYaml(inventory: unknown, header: string): string {
  const doc = new YAML.Document(inventory);
  YAML.visit(doc, {
    Pair(_, pair, path) {
      const key = YAML.isScalar(pair.key) ? String(pair.key.value) : '';
      const parent = path[path.length - 1];
      const grand = path[path.length - 2];
      const underCredentials = YAML.isMap(parent) && YAML.isPair(grand) && YAML.isScalar(grand.key) && grand.key.value === 'credentials';
      if ((FLOW.has(key) || underCredentials) && YAML.isCollection(pair.value)) pair.value.flow = true;
      if (QUOTED.has(key) && YAML.isScalar(pair.value)) pair.value.type = 'QUOTE_DOUBLE';
    },
  });
  doc.commentBefore = header;
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/**
 * The lab's vSphere (lab/vsphere-lab.ts) in the inventory: its endpoint, the X1 on every host, a
 * boot disk, each host's share as a datastore on its own host, or (mountEverywhere) on every host
 * as the runbook mounts them, so that a failover has a surviving host to mount the copy on.
 */
export function withVsphere(inventory: unknown, opts: { url: string; thumbprint: string; user: string; passwordEnv: string; rebootTimeout: string; mountEverywhere: boolean }): unknown {
  const inv = structuredClone(inventory) as { credentials: Record<string, unknown>; vsphere?: unknown; hosts: Record<string, any>[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
  inv.credentials.vsphere = { user: opts.user, passwordEnv: opts.passwordEnv };
  inv.vsphere = { url: opts.url, credentials: 'vsphere', thumbprint: opts.thumbprint };
  for (const host of inv.hosts) {
    // The runbook's DDRdrive X1 by its ids; the lab's running VMs (none but the storage VM) may be powered off.
    host.passthrough = { device: { vendorId: '0x19e3', classId: '0x0100' }, rebootTimeout: opts.rebootTimeout, runningVms: 'powerOff' };
    Object.assign(host.storageVm, { bootDisk: { sizeGiB: 8 }, guestTimeout: '2m' });
    const mountOn = opts.mountEverywhere ? inv.hosts.map((h) => h.name) : [host.name];
    for (const d of host.storageVm.datasets) d.datastore = { name: `${host.storageVm.name}-${d.name.split('/').slice(1).join('-')}`, mountOn };
  }
  return inv;
}
