/**
 * Linux: the disks, their stable names and what they hold, read by two scripts (argv arrays; the
 * disk directory and the devices are positional arguments, never part of the script text).
 *
 * The listing prints three sections:
 *   @@ lsblk   `lsblk -b -n -P` of every block device, partitions included (PKNAME is a
 *              partition's disk), so a disk with a mounted partition is seen in use
 *   @@ by-id   `LINK TAB TARGET` for each /dev/disk/by-id link, resolved with readlink -f
 *   @@ files   `PATH TAB block|file TAB BYTES` for each entry of the inventory's diskDirectory
 *              (the lab's sparse files, and its cache disk: a block node over a loop device)
 *
 * Checked in a lab host (zfs-fuse, no udev): lsblk's FSTYPE and PTTYPE come from udev and are
 * empty there, so the label probe (blkid -p, zdb -l where the label areas are not zeros) reads every device itself; the machine's own
 * disk is listed (vda, mounted) and must never be chosen; there is no /dev/disk/by-id.
 */
import type { ListedDisk } from './guest-disk';
import { article, probeEachDisk } from './labels';

export const LINUX_DISK_LISTING = `echo '@@ lsblk'
lsblk -b -n -P -o NAME,PKNAME,TYPE,SIZE,MODEL,SERIAL,FSTYPE,PTTYPE,MOUNTPOINT
echo '@@ by-id'
for l in /dev/disk/by-id/*; do
  [ -L "$l" ] && printf '%s\\t%s\\n' "$l" "$(readlink -f "$l")"
done
echo '@@ files'
if [ -n "$1" ]; then
  for f in "$1"/*; do
    if [ -b "$f" ]; then printf '%s\\tblock\\t%s\\n' "$f" "$(blockdev --getsize64 "$f")"
    elif [ -f "$f" ]; then printf '%s\\tfile\\t%s\\n' "$f" "$(stat -c %s "$f")"; fi
  done
fi`;

/**
 * blkid reads each device given as an argument, and zdb each one that could hold a ZFS label.
 * ZFS keeps its four labels in the first 512 KiB and in the last 512 KiB below the size rounded
 * down to 256 KiB; the last 768 KiB cover those. Where both are all zeros no label can be read
 * (`@@ zeros`) and zdb, which costs tens of milliseconds of start-up a disk, is not run: the
 * blank disks of a new storage VM. A size that cannot be read leaves it to zdb.
 */
export const LINUX_LABEL_PROBE = probeEachDisk(`  echo "@@ blkid $1"
  blkid -p -o export "$1"
  size=$(blockdev --getsize64 "$1" 2>/dev/null || stat -L -c %s "$1" 2>/dev/null)
  if [ -n "$size" ] && [ "$size" -ge 1048576 ] && [ "$( {
    dd if="$1" bs=262144 count=2 2>/dev/null
    dd if="$1" bs=262144 skip=$((size / 262144 - 3)) count=3 2>/dev/null
  } | tr -d '\\000' | wc -c)" -eq 0 ]; then
    echo "@@ zeros $1"
  else
    echo "@@ zdb $1"
    zdb -l "$1"
  fi`);

type LsblkRow = Record<string, string>;

/** lsblk -P escapes unsafe characters as \\xHH. */
function unescapeLsblk(value: string): string {
  return value.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function lsblkRows(section: string): LsblkRow[] {
  return section
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, unescapeLsblk(m[2]!)])));
}

function sections(output: string): Map<string, string> {
  const parts = output.split(/^@@ (\S+)$/m);
  const found = new Map<string, string>();
  for (let i = 1; i + 1 < parts.length; i += 2) found.set(parts[i]!, parts[i + 1]!);
  for (const name of ['lsblk', 'by-id', 'files']) {
    if (!found.has(name)) throw new Error(`disk listing: no "@@ ${name}" section (was it the linux listing script?)`);
  }
  return found;
}

/** Rows below `name` (its partitions, and what is built on them), deepest last. */
function descendants(rows: readonly LsblkRow[], name: string): LsblkRow[] {
  const children = rows.filter((r) => r.PKNAME === name && r.NAME !== name);
  return children.flatMap((c) => [c, ...descendants(rows, c.NAME!)]);
}

function usage(rows: readonly LsblkRow[], disk: LsblkRow): Pick<ListedDisk, 'label' | 'inUse'> {
  const below = descendants(rows, disk.NAME!);
  const mounted = [disk, ...below].find((r) => r.MOUNTPOINT);
  const inUse = mounted
    ? mounted.MOUNTPOINT === '[SWAP]'
      ? `${mounted.NAME} is swap`
      : `${mounted.NAME} is mounted at ${mounted.MOUNTPOINT}`
    : undefined;
  const partitions = below.filter((r) => r.TYPE === 'part').map((r) => (r.FSTYPE ? `${r.NAME} (${r.FSTYPE})` : r.NAME!));
  const label = disk.FSTYPE
    ? `${article(disk.FSTYPE)} ${disk.FSTYPE} signature`
    : partitions.length > 0
      ? `partitions ${partitions.join(', ')}`
      : disk.PTTYPE
        ? `${article(disk.PTTYPE)} ${disk.PTTYPE} partition table`
        : undefined;
  return { ...(label ? { label } : {}), ...(inUse ? { inUse } : {}) };
}

/** The listing script's output → the whole disks (lsblk TYPE disk, not empty) and the directory's files. */
export function parseLinuxDiskListing(output: string): ListedDisk[] {
  const parts = sections(output);
  const rows = lsblkRows(parts.get('lsblk')!);
  const links = parts
    .get('by-id')!
    .split('\n')
    .filter((l) => l.includes('\t'))
    .map((l) => l.split('\t') as [string, string]);
  const disks: ListedDisk[] = rows
    .filter((r) => r.TYPE === 'disk' && Number(r.SIZE) > 0)
    .map((r) => {
      const name = `/dev/${r.NAME}`;
      return {
        name,
        aliases: links.filter(([, target]) => target === name).map(([link]) => link).sort(),
        sizeBytes: Number(r.SIZE),
        ...(r.MODEL?.trim() ? { model: r.MODEL.trim() } : {}),
        ...(r.SERIAL?.trim() ? { serial: r.SERIAL.trim() } : {}),
        kind: 'block' as const,
        ...usage(rows, r),
      };
    });
  for (const line of parts.get('files')!.split('\n')) {
    const [path, kind, size] = line.split('\t');
    if (!path || (kind !== 'block' && kind !== 'file') || !/^\d+$/.test(size ?? '')) continue;
    disks.push({ name: path, aliases: [], sizeBytes: Number(size), kind });
  }
  return disks;
}

/**
 * OpenZFS's zfs_strip_partition (lib/libzutil/os/linux): a whole-disk vdev is printed as the disk
 * (sdb) but may be named by its partition (sdb1, nvme0n1p1, ata-...-part1).
 */
export function linuxWholeDiskName(printed: string): string {
  const slash = printed.lastIndexOf('/');
  const dir = printed.slice(0, slash + 1);
  const base = printed.slice(slash + 1);
  const stripped =
    /^(.+)-part\d+$/.exec(base)?.[1] ??
    /^(.*\d)p\d+$/.exec(base)?.[1] ??
    /^((?:[hsv]|xv)d[a-z]+)\d+$/.exec(base)?.[1] ??
    base;
  return dir + stripped;
}
