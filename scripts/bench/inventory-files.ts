/**
 * Inventories made up for the loading benchmark and the hostile-input tests: a large valid one
 * (the runbook's shape, many hosts), a large one full of errors, and a small one whose aliases
 * expand to a great many unknown host names.
 */
const HOST_KEYS = [
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEOmJnOe9O64uFR6LYPe0XVt9n2mR52huPspzyqbfYm8',
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF9QOde4jj4IuyNzMqDctAXVCStBJBMb8qhJiLN2fFO1',
];

const HEADER = `apiVersion: esxi-zfs/v1
credentials:
  vcenter: { user: administrator@vsphere.local, passwordEnv: VSPHERE_PASSWORD }
  storage-root: { user: root, privateKeyFile: ~/.ssh/esxi-zfs_ed25519 }
vsphere:
  url: https://vcenter.example/sdk
  credentials: vcenter
  thumbprint: "5F:2A:91:0C:7B:44:E3:18:AA:D0:6E:93:21:BC:47:F5:08:9D:3E:9A"
replication:
  user: zfsadm
  schedule: { cron: "59 23 * * *", timezone: America/Chicago }
  send: [properties, dedup]
  retention: { daily: 7, weekly: 4 }
hosts:
`;

const DATASETS_PER_VM = 3;
const pad = (i: number) => String(i).padStart(5, '0');
/** A distinct address for every index below 65 536 in the given /16. */
const address = (prefix: string, i: number) => `${prefix}.${Math.floor(i / 250)}.${(i % 250) + 2}`;

/** One host with its storage VM (index i of n): every name unique, every reference resolvable. */
function host(i: number, n: number, broken: boolean, unknownHosts = broken): string {
  const id = pad(i);
  const next = pad((i + 1) % n);
  const vm = `uss${id}`;
  const datasets = Array.from({ length: DATASETS_PER_VM }, (_, d) => {
    const lines = [
      `        - name: ${broken && d === 0 ? `sp${id}/nas/vol${d};reboot` : `sp${id}/nas/vol${d}`}`,
      `          mountpoint: /export/${vm}-nas-vol${d}`,
      `          properties: { dedup: "on", compression: lz4 }`,
      `          share: { rw: true, nosuid: true, root: [vh${id}-nas, vh${next}-nas] }`,
      `          datastore: { name: ${vm}-nas-vol${d}, mountOn: [vh${id}, ${unknownHosts && d === 1 ? `nowhere${id}` : `vh${next}`}] }`,
    ];
    if (d === 0) lines.push(`          replicateTo: { vm: uss${next}, dataset: sp${next}/replica/${vm}-vol0 }`);
    return lines.join('\n');
  });
  return `  - name: ${broken && unknownHosts ? `vh_${id}` : `vh${id}`}
    passthrough: { device: { vendorId: "0x19e3", classId: "0x0100" }, rebootTimeout: 30m }
    storageNetwork: { vswitch: vSwitch1, portGroup: eSAN, vmkernel: { name: eSAN-Interface1, address: ${address('10.1', i)}/16 } }
    storageVm:
      name: ${vm}
      os: illumos
      cpus: 2
      ${broken ? 'memoryGib' : 'memoryGiB'}: 4
      nics:
        - { portGroup: VM Network, address: ${address('172.16', i)}/16, gateway: 172.16.0.1 }
        - { portGroup: eSAN, address: ${address('10.2', i)}/16 }
      ssh: { address: ${address('172.16', i)}, credentials: storage-root, hostKey: "${HOST_KEYS[i % 2]}" }
      pool:
        name: sp${id}
        data: [{ disk: c8t1d0 }]
        log: [{ disk: c11t0d0 }]
      datasets:
${datasets.join('\n')}
`;
}

function hostsOfSize(bytes: number, broken: boolean, unknownHosts = broken): string {
  const per = host(0, 2, broken, unknownHosts).length;
  const n = Math.max(2, Math.min(60_000, Math.ceil((bytes - HEADER.length) / per)));
  const parts = [HEADER];
  for (let i = 0; i < n; i++) parts.push(host(i, n, broken, unknownHosts));
  return parts.join('');
}

/** A valid inventory of about `bytes` (every host with a storage VM and three datasets). */
export function validInventory(bytes: number): string {
  return hostsOfSize(bytes, false);
}

/**
 * An inventory of about `bytes` with problems in every host: an unknown key (memoryGib), the
 * required memoryGiB missing, a dataset name with ';', and (unknownHosts, the default) a host name
 * with '_' and a datastore on an unknown host, which make every datastore's hosts unknown.
 */
export function inventoryOfErrors(bytes: number, unknownHosts = true): string {
  return hostsOfSize(bytes, true, unknownHosts);
}

/**
 * A small file of aliases to lists of unknown host names, each anchor used at most 99 times (under
 * the yaml package's default count of 100 uses): 50 names per list, 99 datasets per shared dataset
 * list, and storage VMs that all reuse the dataset lists. About `bytes` of text that expands to
 * 100 x (or more) its nodes, each an unknown host: the expansion, not the count, is what is large.
 */
export function aliasedUnknownHosts(bytes: number): string {
  const out = [HEADER];
  let size = HEADER.length;
  for (let h = 0; size < bytes; h++) {
    const group = Math.floor(h / 99);
    let datasets: string;
    if (h % 99 === 0) {
      const names = Array.from({ length: 50 }, (_, k) => `nowhere-${group}-${k}`).join(', ');
      const items = Array.from({ length: 99 }, (_, d) => `{ name: sp${h}/d${d}, datastore: { name: ds${group}-${d}, mountOn: ${d === 0 ? `&n${group} [${names}]` : `*n${group}`} } }`);
      datasets = `&d${group} [${items.join(', ')}]`;
    } else {
      datasets = `*d${group}`;
    }
    const host = `  - name: vh${h}
    storageVm:
      name: uss${h}
      os: illumos
      cpus: 1
      memoryGiB: 1
      nics: [{ portGroup: eSAN, address: ${address('10.3', h)}/16 }]
      ssh: { address: ${address('10.3', h)}, credentials: storage-root, hostKey: "${HOST_KEYS[0]}" }
      pool: { name: sp${h}, data: [{ disk: c8t1d0 }] }
      datasets: ${datasets}
`;
    out.push(host);
    size += host.length;
  }
  return out.join('');
}
