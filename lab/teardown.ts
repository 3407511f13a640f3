/**
 * Teardown: everything a lab (healthy, half built or crashed) may have left: its processes, loop
 * devices, mounts, network namespaces, links and routes, and finally its dir. Only what is provably this lab's
 * is touched: bridges by their alias, namespaces by their prefix, the dir by its marker.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { labLoops } from './disks';
import { debug, run } from './exec';
import { bridgeAlias, bridgeName, bridgesOf, isLabVeth, netnsPrefix, releaseNetwork } from './network';
import { labVsphereDown } from './vsphere-lab';
import { buildPath, MARKER, readJson, statePath, type BuildRecord, type LabState } from './state';
import {
  isUnder, links, mountsUnder, mountTable, netnsNames, pidsInNamespaces, processExe, terminate, unmountUnder,
  type LinkInfo,
} from './sys';

export async function teardown(dir: string): Promise<void> {
  const marker = bridgeAlias(dir);
  const indices = ourIndices(dir, marker, await links());
  const ourNetns = () => netnsNames().filter((n) => [...indices].some((i) => n.startsWith(netnsPrefix(i))));

  await labVsphereDown(dir);

  await stopProcesses(ourNamespaceInodes(dir, ourNetns));
  // Recorded daemons outside those namespaces cannot be ours any more; leave them alone.

  for (const loop of labLoops(dir)) await run('losetup', ['--detach', loop]);
  await unmountUnder(dir);
  for (const n of ourNetns()) await run('ip', ['netns', 'delete', n]);
  for (const l of await links()) {
    const ours = [...indices].some((i) => isLabVeth(i, l.ifname) || (bridgesOf(i).includes(l.ifname) && (l.ifalias === marker || !l.ifalias)));
    if (ours) await run('ip', ['link', 'delete', l.ifname]);
  }
  for (const i of indices) await releaseNetwork(i);
  removeLabDir(dir);
}

/**
 * Which network indices are ours: bridges carrying our alias, and recorded indices whose bridge
 * is gone (a crash between deleting the bridge and the namespaces) but not taken by another lab.
 */
function ourIndices(dir: string, marker: string, allLinks: LinkInfo[]): Set<number> {
  const state = readJson<LabState>(statePath(dir));
  const record = readJson<BuildRecord>(buildPath(dir));
  const indices = new Set<number>();
  for (const l of allLinks) {
    const m = /^(?:ezlab|ezsan)(\d+)$/.exec(l.ifname);
    if (m && l.ifalias === marker) indices.add(Number(m[1]));
  }
  for (const index of [state?.index, record?.index]) {
    if (index === undefined) continue;
    // No alias at all: a crash between creating the bridge and naming it (see claimNetwork).
    const bridge = allLinks.find((l) => l.ifname === bridgeName(index));
    if (!bridge || bridge.ifalias === marker || (!bridge.ifalias && index === record?.index)) indices.add(index);
  }
  return indices;
}

/** The inodes of the namespaces whose files lie in the lab dir or are our /run/netns entries. */
function ourNamespaceInodes(dir: string, ourNetns: () => string[]) {
  const inodes = { mnt: new Set<number>(), uts: new Set<number>(), net: new Set<number>() };
  for (const m of mountTable()) {
    if (m.fsType !== 'nsfs') continue;
    const match = /^(mnt|uts|net):\[(\d+)\]$/.exec(m.root);
    if (!match) continue;
    const ours = isUnder(m.mountPoint, dir) || ourNetns().some((n) => m.mountPoint === `/run/netns/${n}`);
    if (ours) inodes[match[1] as 'mnt' | 'uts' | 'net'].add(Number(match[2]));
  }
  return inodes;
}

/** Every process in one of our namespaces: sshd, zfs-fuse, SSH sessions, zfs recv, labExec calls. */
async function stopProcesses(inodes: { mnt: Set<number>; uts: Set<number>; net: Set<number> }): Promise<void> {
  for (let pass = 0; pass < 4; pass++) {
    const pids = pidsInNamespaces(inodes);
    if (pids.length === 0) break;
    debug(`teardown: stopping ${pids.map((p) => `${p}(${processExe(p) ?? '?'})`).join(' ')}`);
    const left = await terminate(pids);
    debug('teardown: stopped');
    if (left.length > 0) throw new Error(`lab processes would not stop: ${left.join(', ')}`);
  }
}

function removeLabDir(dir: string): void {
  // Leftovers of an earlier removal that did not finish (renamed below, so certainly ours).
  const parent = path.dirname(dir);
  const trashPrefix = `${path.basename(dir)}.removing-`;
  const trash = fs.existsSync(parent) ? fs.readdirSync(parent).filter((n) => n.startsWith(trashPrefix)).map((n) => path.join(parent, n)) : [];
  if (fs.existsSync(dir)) {
    const mounted = mountsUnder(dir);
    if (mounted.length > 0) throw new Error(`refusing to delete ${dir}: still mounted: ${mounted.map((m) => m.mountPoint).join(', ')}`);
    const entries = fs.readdirSync(dir);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new Error(`refusing to delete ${dir}: it is not a lab dir (no ${MARKER} in it)`);
    }
    // Renamed first, so that a removal cut short never leaves a lab dir without its marker.
    const doomed = path.join(parent, `${trashPrefix}${process.pid}-${Date.now()}`);
    fs.renameSync(dir, doomed);
    trash.push(doomed);
  }
  for (const d of trash) {
    const left = mountsUnder(d);
    if (left.length > 0) throw new Error(`refusing to delete ${d}: still mounted: ${left.map((m) => m.mountPoint).join(', ')}`);
    // A crashed labUp's helpers (a cp -a /etc) may still be writing into it for a moment: retry.
    fs.rmSync(d, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  }
}
