/**
 * The storage-host lab: N "storage VMs" on this machine, each a Linux network namespace plus a
 * persistent private mount (and UTS) namespace with its own real sshd and its own real zfs-fuse,
 * with two NICs: eth0 on the management bridge, eth1 on the storage bridge; and the ESXi hosts'
 * vmkernel NFS clients on the storage bridge. The public entry points; the work is done by:
 *   state.ts     the lab dir's records (state.json, build.json), its marker and its lock
 *   network.ts   the bridges, subnets, addresses and names of a lab's network index; claiming one
 *   build.ts     a lab from nothing; host.ts one host (folders, /etc, namespaces, its root)
 *   hypervisors.ts  the vmkernel NFS clients vh1.. and the outsider; running commands in them
 *   disks.ts     sparse disks and loop devices;  daemons.ts  sshd and zfs-fuse of a host
 *   repair.ts    whether a standing lab is intact; restarting dead daemons in place
 *   reboot.ts    rebooting one host: daemons stopped, live network cleared, started from its config
 *   clock.ts     a host's wall clock set off the machine's (libfaketime), for the clock-skew faults
 *   teardown.ts  removing everything a lab (healthy, half built or crashed) may have left
 *
 * Layout of a lab dir (default <repo>/.data/lab):
 *   .esxi-zfs-lab            marker: only a dir holding it is ever deleted by labDown
 *   state.json               LabState (written last: its presence means "built")
 *   build.json               what has been created so far (index, hosts): for cleaning up a crash
 *   inventory.yaml           the lab inventory (apiVersion esxi-zfs/v1)
 *   id_ed25519{,.pub}        root's client key, trusted by every host
 *   known_hosts              "name,address key" for every host
 *   ns/                      private bind mount holding NAME.mnt / NAME.uts (the persistent namespaces)
 *   hosts/NAME/              per-host state: etc/ home/ root/ tmp/ run/ srv/disks/ var-lib-zfs/
 *                            var-log/ var-mail/ log/ and fsroot/ (the host's root, a tmpfs, in its ns)
 */
import { build } from './build';
import { daemonOk, sshBanner, SSHD, ZFS_FUSE } from './daemons';
import { checkDiskLayout, DEFAULT_DISK_LAYOUT, type DiskLayout } from './disks';
import { isReservedHostName } from './hypervisors';
import { isIntact, repair } from './repair';
import { readJson, resolveDir, statePath, withLock, type LabState } from './state';
import { teardown } from './teardown';

export { labExec } from './exec';
export { inHypervisor } from './hypervisors';
export { addressOf, outsiderAddressOf, storageAddressOf, storageSubnetOf, subnetOf, vmkernelAddressOf } from './network';
export { labReboot, type RebootReport } from './reboot';
export { labSetClock } from './clock';
export { DEFAULT_LAB_DIR, type LabDisk, type LabHostState, type LabState, type LabStorageClient } from './state';

export interface LabOptions {
  hosts?: number;
  names?: string[];
  dir?: string;
  /** Data disks per host (default 1: c8t1d0); a standing lab with other disks is rebuilt. */
  dataDisks?: number;
  /** One spare-able disk c10t0d0 per host (default none). */
  spareDisk?: boolean;
  /** Told each repair labUp makes (a daemon restarted). */
  report?: (line: string) => void;
}

export const DEFAULT_HOST_COUNT = 2;
const MAX_HOSTS = 200;

export const defaultHostNames = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => `test-san-${String(i + 1).padStart(2, '0')}`);

function requestedNames(opts: LabOptions): string[] {
  const names = opts.names ?? defaultHostNames(opts.hosts ?? DEFAULT_HOST_COUNT);
  if (opts.names && opts.hosts !== undefined && opts.hosts !== opts.names.length) {
    throw new Error(`hosts (${opts.hosts}) and names (${opts.names.length}) disagree`);
  }
  if (names.length < 1 || names.length > MAX_HOSTS) throw new Error(`a lab has 1 to ${MAX_HOSTS} hosts, not ${names.length}`);
  for (const name of names) {
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) {
      throw new Error(`host name '${name}' must be a lower-case DNS label (letters, digits, '-', not at either end)`);
    }
    if (isReservedHostName(name)) throw new Error(`host name '${name}' is taken by the lab's hypervisors (vh1, vh2, ..., outsider)`);
  }
  if (new Set(names).size !== names.length) throw new Error(`host names must be unique: ${names.join(', ')}`);
  return names;
}

/**
 * Brings the lab up. A lab with exactly the requested hosts and disks and all its namespaces is
 * kept: a daemon that died (sshd, zfs-fuse) is restarted in its host, whose disks, pools and keys
 * stay. Anything else (no lab, a crashed build, a namespace gone, other hosts or disks) is cleaned
 * up completely and built afresh.
 */
export async function labUp(opts: LabOptions = {}): Promise<LabState> {
  const dir = resolveDir(opts.dir);
  const names = requestedNames(opts);
  const disks: DiskLayout = { dataDisks: opts.dataDisks ?? DEFAULT_DISK_LAYOUT.dataDisks, spareDisk: opts.spareDisk ?? DEFAULT_DISK_LAYOUT.spareDisk };
  checkDiskLayout(disks);
  return withLock(dir, async () => {
    const existing = readJson<LabState>(statePath(dir));
    if (existing && (await isIntact(existing, dir, names, disks))) return repair(existing, opts.report ?? (() => undefined));
    await teardown(dir);
    try {
      return await build(dir, names, disks);
    } catch (error) {
      try {
        await teardown(dir);
      } catch (cleanup) {
        (error as Error).message += `\n(and cleaning up after it failed: ${(cleanup as Error).message})`;
      }
      throw error;
    }
  });
}

/** Stops every lab process, unmounts every lab mount, deletes namespaces, links and the lab dir. */
export async function labDown(opts: { dir?: string } = {}): Promise<void> {
  const dir = resolveDir(opts.dir);
  await withLock(dir, () => teardown(dir));
}

export interface LabHostStatus {
  name: string;
  sshdAlive: boolean;
  zfsAlive: boolean;
  reachable: boolean;
}

export async function labStatus(opts: { dir?: string } = {}): Promise<{ state: LabState | null; hosts: LabHostStatus[] }> {
  const dir = resolveDir(opts.dir);
  const state = readJson<LabState>(statePath(dir));
  if (!state) return { state: null, hosts: [] };
  const hosts = await Promise.all(
    state.hosts.map(async (h) => ({
      name: h.name,
      sshdAlive: daemonOk(h.pids.sshd, SSHD, h.ns.mnt),
      zfsAlive: daemonOk(h.pids.zfsFuse, ZFS_FUSE, h.ns.mnt),
      reachable: (await sshBanner(h.address, 1000)).startsWith('SSH-2.0-'),
    })),
  );
  return { state, hosts };
}
