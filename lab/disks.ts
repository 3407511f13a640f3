/**
 * A lab host's disks: sparse files in its /srv/disks, and for the cache disk a loop device over a
 * sparse file. Loop devices are found again from sysfs, so a crash loses none.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { must } from './exec';
import { LAB_DISK_DIRECTORY } from './inventory';
import type { LabDisk } from './state';
import { isUnder } from './sys';

/**
 * The runbook's disk names; distinct sizes so a runbook can tell them apart. zfs-fuse refuses a
 * plain file as a cache device ("cache device must be a disk or disk slice"), so the cache disk is
 * a block device: a loop device over a sparse file, its node placed at /srv/disks/c9t0d0.
 */
const LAB_DISKS: readonly { name: string; sizeBytes: number; role: LabDisk['role']; kind: LabDisk['kind'] }[] = [
  { name: 'c8t1d0', sizeBytes: 2 * 1024 ** 3, role: 'data', kind: 'file' },
  { name: 'c11t0d0', sizeBytes: 256 * 1024 ** 2, role: 'log', kind: 'file' },
  { name: 'c9t0d0', sizeBytes: 512 * 1024 ** 2, role: 'cache', kind: 'block' },
];

/** Blank sparse disks for one host; `at` names a path in the host's state dir (hosts/NAME/...). */
export async function makeDisks(at: (...parts: string[]) => string): Promise<LabDisk[]> {
  const disks: LabDisk[] = [];
  for (const d of LAB_DISKS) {
    const inHost = `${LAB_DISK_DIRECTORY}/${d.name}`;
    const file = d.kind === 'file' ? at('srv/disks', d.name) : at('backing', d.name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(file, 'w', 0o600);
    fs.ftruncateSync(fd, d.sizeBytes);
    fs.closeSync(fd);
    if (d.kind === 'file') {
      disks.push({ path: inHost, sizeBytes: d.sizeBytes, role: d.role, kind: d.kind });
      continue;
    }
    const loopDevice = await attachLoop(file);
    const [major, minor] = fs.readFileSync(`/sys/block/${path.basename(loopDevice)}/dev`, 'utf8').trim().split(':');
    await must('mknod', ['-m', '600', at('srv/disks', d.name), 'b', major ?? '', minor ?? '']);
    disks.push({ path: inHost, sizeBytes: d.sizeBytes, role: d.role, kind: d.kind, backingFile: file, loopDevice });
  }
  return disks;
}

/** losetup -f can race with another losetup -f; retry a few times. */
async function attachLoop(file: string): Promise<string> {
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const device = (await must('losetup', ['--find', '--show', file])).trim();
      if (/^\/dev\/loop\d+$/.test(device)) return device;
      last = new Error(`losetup printed '${device}'`);
    } catch (error) {
      last = error;
    }
    await sleep(20 + Math.random() * 80);
  }
  throw last;
}

/** Loop devices whose backing file lies in the lab dir (found from sysfs, so a crash loses none). */
export function labLoops(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync('/sys/block').filter((n) => /^loop\d+$/.test(n));
  } catch {
    return [];
  }
  return names.filter((n) => {
    try {
      const backing = fs.readFileSync(`/sys/block/${n}/loop/backing_file`, 'utf8').trim().replace(/ \(deleted\)$/, '');
      return isUnder(backing, dir);
    } catch {
      return false;
    }
  }).map((n) => `/dev/${n}`);
}
