/**
 * illumos: the disks from `format` (which lists exactly the disks, and reads its selection from
 * stdin: with /dev/null it lists and exits) joined with `iostat -En` (exact size in bytes, vendor,
 * product, serial: every illumos and OpenSolaris release has it, unlike diskinfo). Cannot run
 * here: the parsers are checked on samples written in these tools' formats (test/fixtures/guest).
 *
 * A whole-disk vdev holds an EFI label whose slice 0 carries ZFS: the probe reads
 * /dev/dsk/<disk>s0. A disk without slice 0 (blank, never labelled) cannot be opened there
 * ("No such device or address"): that means no ZFS label, not an unreadable disk.
 */
import { parseZfsSize } from '../zfs-size';
import type { ListedDisk } from './guest-disk';
import { parseLabelProbe, probeEachDisk, type ProbedLabels } from './labels';

export const ILLUMOS_DISK_LISTING = `echo '@@ format'
format </dev/null 2>&1
printf '\\n@@ iostat\\n'
iostat -En`;

export const ILLUMOS_LABEL_PROBE = probeEachDisk(`  echo "@@ zdb $1"
  zdb -l "/dev/dsk/\${1}s0"`);

/** cNtNdN, with the target a WWN (c0t5000C500A1B2C3D4d0) under MPxIO. */
const DISK_NAME = /^c\d+(?:t[0-9A-Fa-f]+)?d\d+$/;

interface IostatEntry {
  model?: string;
  serial?: string;
  sizeBytes?: number;
}

/** `iostat -En`: a `cNtNdN  Soft Errors: ...` line opens each device's block. */
function parseIostat(text: string): Map<string, IostatEntry> {
  const entries = new Map<string, IostatEntry>();
  let current: IostatEntry | undefined;
  for (const line of text.split('\n')) {
    const head = /^(\S+)\s+Soft Errors:/.exec(line);
    if (head) {
      entries.set(head[1]!, (current = {}));
      continue;
    }
    if (!current) continue;
    const ids = /^Vendor:\s*(.*?)\s*Product:\s*(.*?)\s*Revision:\s*(.*?)\s*Serial No:\s*(.*?)\s*$/.exec(line);
    if (ids) {
      const model = [ids[1], ids[2]].filter((s) => s).join(' ');
      if (model) current.model = model;
      if (ids[4]) current.serial = ids[4];
    }
    const size = /^Size:.*<(\d+) bytes>/.exec(line);
    if (size) current.sizeBytes = Number(size[1]);
  }
  return entries;
}

/** format's `<VMware-Virtual disk-1.0-256.00GB>`: the capacity at its end, when the label has one. */
function formatLabelSize(label: string): number | undefined {
  const size = /-(\d+(?:\.\d+)?[KMGT]B)$/.exec(label)?.[1];
  return size === undefined ? undefined : parseZfsSize(size);
}

export function parseIllumosDiskListing(output: string): ListedDisk[] {
  const at = output.search(/^@@ iostat$/m);
  if (!output.startsWith('@@ format') || at < 0) throw new Error('disk listing: no "@@ format" and "@@ iostat" sections (was it the illumos listing script?)');
  const iostat = parseIostat(output.slice(at));
  const disks: ListedDisk[] = [];
  for (const line of output.slice(0, at).split('\n')) {
    const m = /^\s*\d+\.\s+(\S+)\s+<([^>]*)>/.exec(line);
    if (!m || !DISK_NAME.test(m[1]!)) continue;
    const name = m[1]!;
    const stats = iostat.get(name) ?? {};
    disks.push({
      name,
      aliases: [`/dev/dsk/${name}`, `/dev/rdsk/${name}`],
      sizeBytes: stats.sizeBytes ?? formatLabelSize(m[2]!) ?? 0,
      ...(stats.model ? { model: stats.model } : {}),
      ...(stats.serial ? { serial: stats.serial } : {}),
      kind: 'block',
    });
  }
  return disks;
}

export function parseIllumosLabelProbe(output: string): Map<string, ProbedLabels> {
  const probed = parseLabelProbe(output);
  for (const [disk, labels] of probed) {
    if (labels.unreadable?.includes('No such device or address')) {
      const { unreadable: _, ...rest } = labels;
      probed.set(disk, rest);
    }
  }
  return probed;
}

/** zpool status prints c8t0d0s0 for a slice vdev, c8t1d0 for a whole disk; /dev/dsk/... when given so. */
export function illumosWholeDiskName(printed: string): string {
  const name = printed.replace(/^\/dev\/r?dsk\//, '');
  const disk = /^(c\d+(?:t[0-9A-Fa-f]+)?d\d+)[sp]\d+$/.exec(name)?.[1];
  return disk ?? name;
}
