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

export interface DiskLayout {
  /**
   * Data disks c8t1d0, c8t2d0, ...: 2 GiB, then 2 MiB more each, so size selectors tell them apart
   * while every mirror or raidz of them stays within zpool's 16 MiB tolerance (measured on zfs-fuse:
   * 17 MiB apart is "mirror contains devices of different sizes" without -f).
   */
  dataDisks: number;
  /** One more disk, c10t0d0, 2 MiB larger than the largest data disk (so it can replace any). */
  spareDisk: boolean;
}

export const DEFAULT_DISK_LAYOUT: DiskLayout = { dataDisks: 1, spareDisk: false };
export const MAX_DATA_DISKS = 8;

type PlannedDisk = { name: string; sizeBytes: number; role: LabDisk['role']; kind: LabDisk['kind'] };

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const SIZE_STEP = 2 * MiB;

/**
 * The runbook's disk names; distinct sizes so a runbook can tell them apart. zfs-fuse refuses a
 * plain file as a cache device ("cache device must be a disk or disk slice"), so the cache disk is
 * a block device: a loop device over a sparse file, its node placed at /srv/disks/c9t0d0.
 */
function planDisks(layout: DiskLayout): PlannedDisk[] {
  checkDiskLayout(layout);
  const { dataDisks, spareDisk } = layout;
  return [
    ...Array.from({ length: dataDisks }, (_, j): PlannedDisk => ({ name: `c8t${j + 1}d0`, sizeBytes: 2 * GiB + j * SIZE_STEP, role: 'data', kind: 'file' })),
    { name: 'c11t0d0', sizeBytes: 256 * MiB, role: 'log', kind: 'file' },
    { name: 'c9t0d0', sizeBytes: 512 * MiB, role: 'cache', kind: 'block' },
    ...(spareDisk ? [{ name: 'c10t0d0', sizeBytes: 2 * GiB + dataDisks * SIZE_STEP, role: 'spare', kind: 'file' } satisfies PlannedDisk] : []),
  ];
}

export function checkDiskLayout({ dataDisks }: DiskLayout): void {
  if (!Number.isInteger(dataDisks) || dataDisks < 1 || dataDisks > MAX_DATA_DISKS) {
    throw new Error(`a lab host has 1 to ${MAX_DATA_DISKS} data disks, not ${dataDisks}`);
  }
}

/** Whether a host's disks are the ones a layout asks for (names, sizes, roles, kinds). */
export function hasLayout(disks: LabDisk[], layout: DiskLayout): boolean {
  const key = (d: { path: string; sizeBytes: number; role: string; kind: string }) => `${d.path} ${d.sizeBytes} ${d.role} ${d.kind}`;
  const planned = planDisks(layout).map((d) => key({ ...d, path: `${LAB_DISK_DIRECTORY}/${d.name}` }));
  return disks.length === planned.length && disks.every((d, i) => key(d) === planned[i]);
}

/** Blank sparse disks for one host; `at` names a path in the host's state dir (hosts/NAME/...). */
export async function makeDisks(at: (...parts: string[]) => string, layout: DiskLayout): Promise<LabDisk[]> {
  const disks: LabDisk[] = [];
  for (const d of planDisks(layout)) {
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
