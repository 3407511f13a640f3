/**
 * Keeping a standing lab: whether its structure (hosts, disks, bridges, namespaces) is intact, and
 * restarting a host's dead daemons in place, its disks, pools and keys untouched.
 */
import * as fs from 'node:fs';
import { daemonOk, SSHD, startSshd, startZfsFuse, unmountDeadZfs, withoutShareErrors, waitForSshd, waitForZfs, ZFS_FUSE } from './daemons';
import { hasLayout, type DiskLayout } from './disks';
import { labExec } from './exec';
import { LAB_DISK_DIRECTORY } from './inventory';
import { bootNfs, nfsPids, stopNfs } from './nfs/server';
import { bridgeAlias } from './network';
import { statePath, writeJson, type LabHostState, type LabState } from './state';
import { links, mountTable, nsFileInode, pidsInNamespaces, processExe, terminate } from './sys';

/**
 * Whether the lab's structure stands: its hosts with their disks, both bridges, the hosts' and the
 * hypervisors' namespaces (daemons aside). A state.json of an older lab (no storage network) is not.
 */
export async function isIntact(state: LabState, dir: string, names: string[], disks: DiskLayout): Promise<boolean> {
  if (state.dir !== dir || state.hosts.length !== names.length) return false;
  if (state.hosts.some((h, j) => h.name !== names[j] || !hasLayout(h.disks, disks))) return false;
  if (!state.storageBridge || !state.outsider || state.hypervisors?.length !== names.length) return false;
  const allLinks = await links();
  const ownBridge = (name: string) => allLinks.some((l) => l.ifname === name && l.ifalias === bridgeAlias(dir));
  if (!ownBridge(state.bridge) || !ownBridge(state.storageBridge)) return false;
  if (![...state.hypervisors, state.outsider].every((c) => fs.existsSync(`/run/netns/${c.netns}`))) return false;
  const table = mountTable();
  return state.hosts.every((h) =>
    fs.existsSync(`/run/netns/${h.netns}`) &&
    nsFileInode(`/run/netns/${h.netns}`, table) === h.ns.net &&
    nsFileInode(h.mountNs, table) === h.ns.mnt &&
    nsFileInode(h.utsNs, table) === h.ns.uts);
}

/** Restarts each host's dead daemons in its namespaces; writes state.json when a pid changed. */
export async function repair(state: LabState, report: (line: string) => void): Promise<LabState> {
  const hosts = await Promise.all(state.hosts.map((h) => repairHost(h, report)));
  const repaired = { ...state, hosts };
  if (hosts.some((h, j) => h !== state.hosts[j])) writeJson(statePath(state.dir), repaired);
  await Promise.all(hosts.map((h) => waitForSshd(h)));
  return repaired;
}

async function repairHost(h: LabHostState, report: (line: string) => void): Promise<LabHostState> {
  let host = h;
  if (!daemonOk(h.pids.zfsFuse, ZFS_FUSE, h.ns.mnt)) {
    host = { ...host, pids: { ...host.pids, zfsFuse: await restartZfs(host) } };
    report(`${h.name}: zfs-fuse was not running (pid ${h.pids.zfsFuse}); restarted as pid ${host.pids.zfsFuse}, pools imported again`);
  }
  // ganesha and rpcbind go together (ganesha exits without rpcbind); their exports come from ZFS.
  if (!nfsPids(host)) {
    try {
      await stopNfs(host);
      await bootNfs(host);
      report(`${h.name}: the NFS server was not running; started, shares exported again (zfs share -a)`);
    } catch (error) {
      report(`${h.name}: the NFS server could not start: ${(error as Error).message}`);
    }
  }
  if (!daemonOk(h.pids.sshd, SSHD, h.ns.mnt)) {
    host = { ...host, pids: { ...host.pids, sshd: startSshd(host) } };
    report(`${h.name}: sshd was not running (pid ${h.pids.sshd}); restarted as pid ${host.pids.sshd}`);
  }
  return host;
}

/**
 * A dead zfs-fuse leaves its FUSE mounts behind ("Transport endpoint is not connected"): unmount
 * them and start it again, after stopping any other zfs-fuse in the host (started by hand: two
 * would share its socket). It imports the pools in its zpool.cache itself; a pool made shortly
 * before the crash may not be there yet, and counts as in use by the dead daemon, hence
 * `import -f` (the disks are this host's alone). Then its datasets are mounted again.
 */
async function restartZfs(h: LabHostState): Promise<number> {
  const strays = pidsInNamespaces({ mnt: [h.ns.mnt] }).filter((pid) => processExe(pid) === ZFS_FUSE);
  if ((await terminate(strays)).length > 0) throw new Error(`${h.name}: zfs-fuse ${strays.join(', ')} would not stop`);
  await unmountDeadZfs(h);
  const pid = startZfsFuse(h);
  await waitForZfs({ ...h, pids: { ...h.pids, zfsFuse: pid } });
  // Exit 1 without a word: nothing left to import.
  const imported = await labExec(h, ['zpool', 'import', '-a', '-f', '-d', LAB_DISK_DIRECTORY]);
  const importErrors = withoutShareErrors(imported.stderr);
  if (imported.code !== 0 && importErrors) throw new Error(`${h.name}: zpool import after restarting zfs-fuse: ${importErrors}`);
  const mounted = await labExec(h, ['zfs', 'mount', '-a']);
  if (mounted.code !== 0) throw new Error(`${h.name}: zfs mount -a after restarting zfs-fuse: ${mounted.stderr.trim()}`);
  return pid;
}
