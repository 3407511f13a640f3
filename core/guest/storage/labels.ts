/**
 * What a disk holds before it is used: a ZFS label (`zdb -l`), a filesystem or partition table
 * (`blkid -p`, lsblk's FSTYPE/PTTYPE). The probe script prints one section per device:
 *
 *   @@ blkid DEVICE      blkid -p -o export output (KEY=value lines; nothing for a blank device)
 *   @@ zdb DEVICE        zdb -l output
 *   @@ zeros DEVICE      (Linux) instead of zdb: the areas the labels live in are all zeros
 *
 * zdb is the authority for ZFS labels: blkid (util-linux 2.38, checked on the lab) prints nothing
 * for an exported pool's cache and spare devices, whose labels zdb reads as states 4 and 3.
 *
 * Formats checked on zfs-fuse 0.7 (pool version 23); OpenZFS and illumos print the same
 * `name: 'x'` / `state: N` lines. A device that holds no label prints `failed to unpack label N`
 * for each of its four labels, and zdb exits 0 either way (its status is not read).
 */

/** zdb -l costs about a tenth of a second per disk, most of it starting up: probes run side by side, this many at once. */
export const PROBES_AT_ONCE = 8;

/**
 * The label probe scripts' frame: the OS's `probe` body runs for each argument (the device is its
 * `$1`), up to PROBES_AT_ONCE at a time, each into a file of its own; the files are printed in the
 * arguments' order. A probe's failure is printed, not fatal: no label (zdb exits 1) is an answer.
 */
export function probeEachDisk(probe: string): string {
  return `probe() {
${probe}
}
t=$(mktemp -d "\${TMPDIR:-/tmp}/esxi-zfs-probe.XXXXXX") || exit 1
trap 'rm -rf "$t"' 0
n=0
for d in "$@"; do
  n=$((n + 1))
  probe "$d" >"$t/$n" 2>&1 &
  if [ $((n % ${PROBES_AT_ONCE})) -eq 0 ]; then wait; fi
done
wait
i=0
while [ $i -lt $n ]; do
  i=$((i + 1))
  cat "$t/$i"
done
exit 0`;
}

/** ZFS's pool_state_t, as the label's `state:` field stores it. */
const POOL_STATES: Record<number, string> = {
  0: 'active',
  1: 'exported',
  2: 'destroyed',
  3: 'hot spare',
  4: 'cache device',
  5: 'uninitialized',
  6: 'unavailable',
  7: 'potentially active',
};

export const article = (word: string): string => (/^[aeiou]/i.test(word) ? 'an' : 'a');

export interface ZfsLabel {
  /** Absent on hot-spare and cache-device labels, which carry only their own guid. */
  pool?: string;
  state: number;
  poolGuid?: string;
}

export interface ProbedLabels {
  zfs?: ZfsLabel;
  /** blkid's TYPE (ext4, xfs, LVM2_member, zfs_member...) and PTTYPE (gpt, dos). */
  fsType?: string;
  partitionTable?: string;
  /** What stopped the probe (zdb or blkid could not open the device). */
  unreadable?: string;
}

/** The first readable label of a `zdb -l` output: all four normally agree. */
export function parseZdbLabel(output: string): ZfsLabel | { unreadable: string } | undefined {
  const cannot = /^cannot open '[^']*': (.*)$/m.exec(output);
  if (cannot) return { unreadable: cannot[1]! };
  for (const label of output.split(/^-+\n\s*LABEL \d+\s*\n-+$/m).slice(1)) {
    const state = /^\s+state: (\d+)$/m.exec(label);
    if (!state) continue;
    const pool = /^\s+name: '([^']*)'$/m.exec(label)?.[1];
    const poolGuid = /^\s+pool_guid: (\d+)$/m.exec(label)?.[1];
    return { state: Number(state[1]), ...(pool !== undefined ? { pool } : {}), ...(poolGuid ? { poolGuid } : {}) };
  }
  return undefined;
}

/** `blkid -p -o export DEVICE`: KEY=value lines; an error line when the device cannot be opened. */
export function parseBlkid(output: string): Pick<ProbedLabels, 'fsType' | 'partitionTable' | 'unreadable'> {
  const error = /^blkid: error: [^:]*: (.*)$/m.exec(output);
  if (error) return { unreadable: error[1]! };
  const fields = new Map(
    output.split('\n').flatMap((line) => {
      const eq = line.indexOf('=');
      return eq > 0 ? [[line.slice(0, eq), line.slice(eq + 1)] as const] : [];
    }),
  );
  return {
    ...(fields.get('TYPE') ? { fsType: fields.get('TYPE') } : {}),
    ...(fields.get('PTTYPE') ? { partitionTable: fields.get('PTTYPE') } : {}),
  };
}

/** The probe script's output → device → what it holds. Devices keep the name the script was given. */
export function parseLabelProbe(output: string): Map<string, ProbedLabels> {
  const probed = new Map<string, ProbedLabels>();
  // `@@ zeros DEVICE` (Linux): its label areas are all zeros, zdb was not run: no ZFS label.
  const sections = output.split(/^@@ (blkid|zdb|zeros) (.*)$/m);
  for (let i = 1; i + 1 < sections.length; i += 3) {
    const [tool, device, body = ''] = [sections[i]!, sections[i + 1]!, sections[i + 2]];
    const facts = probed.get(device) ?? {};
    if (tool === 'zdb') {
      const zdb = parseZdbLabel(body);
      if (zdb && 'unreadable' in zdb) facts.unreadable ??= zdb.unreadable;
      else if (zdb) facts.zfs = zdb;
    } else if (tool === 'blkid') {
      const { unreadable, ...blkid } = parseBlkid(body);
      Object.assign(facts, blkid);
      if (unreadable) facts.unreadable ??= unreadable;
    }
    probed.set(device, facts);
  }
  return probed;
}

/**
 * What a device in no imported pool holds, in words for a conflict message, or undefined for a
 * blank device. A ZFS label read by zdb says most (pool, state); then what the listing saw
 * (`listed`: lsblk's partitions, which a probe of the whole disk does not read); then blkid.
 * (A vdev of an imported pool holds that pool's label: guest-disk.ts does not ask.)
 */
export function describeLabels(labels: ProbedLabels, listed?: string): string | undefined {
  const { zfs } = labels;
  if (zfs) {
    const state = POOL_STATES[zfs.state] ?? `state ${zfs.state}`;
    if (zfs.pool === undefined) return `a ZFS ${state} label of a pool not imported here`;
    const hint =
      zfs.state === 1 ? ` (zpool import ${zfs.pool} brings it back)`
      : zfs.state === 2 ? ' (zpool import -D can still recover it)'
      : zfs.state === 0 || zfs.state === 7 ? ': another system may be using it'
      : '';
    return `a ZFS label of ${state} pool '${zfs.pool}'${hint}`;
  }
  if (listed !== undefined) return listed;
  if (labels.fsType === 'zfs_member') return 'a ZFS label (blkid)';
  if (labels.fsType) return `${article(labels.fsType)} ${labels.fsType} signature`;
  if (labels.partitionTable) return `${article(labels.partitionTable)} ${labels.partitionTable} partition table`;
  if (labels.unreadable) return `unknown contents: the probe could not read it (${labels.unreadable})`;
  return undefined;
}
