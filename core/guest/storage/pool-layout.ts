/**
 * A pool's vdevs as `zpool status` shows them. The config block is the same on illumos, OpenZFS
 * and zfs-fuse (all print it with OpenSolaris's code): a header `NAME STATE READ WRITE CKSUM`,
 * then one line per vdev, two spaces of indentation per level below the header's own:
 *
 *   sp1                   ONLINE       0     0     0     the pool (level 0)
 *     mirror-0            ONLINE       0     0     0     a top-level vdev (level 1)
 *       /srv/disks/x-m1   ONLINE       0     0     0     its device (level 2)
 *   logs                                                 a class (level 0): logs, cache, spares, special, dedup
 *     /srv/disks/c11t0d0  ONLINE       0     0     0
 *
 * Group vdevs are named mirror-N, raidz1-N, raidz2-N, draid...-N (older releases: mirror, raidz);
 * a disk being replaced or covered by a spare sits in replacing-N / spare-N one level deeper,
 * and counts as a device of its top-level vdev. Device names are as printed (c8t1d0, sdb,
 * ata-..., a file's full path): guest-disk.ts maps them to disks.
 */
import type { VdevKind } from '../../configure/shared';

export type LayoutVdevKind = VdevKind | 'draid';

export interface LayoutVdev {
  kind: LayoutVdevKind;
  devices: string[];
}

export interface PoolLayout {
  name: string;
  data: LayoutVdev[];
  log: LayoutVdev[];
  cache: string[];
  spares: string[];
  /** OpenZFS's special and dedup allocation classes: a spec never has them, so any is a difference. */
  special: LayoutVdev[];
}

const CLASSES: Record<string, 'log' | 'cache' | 'spares' | 'special'> = {
  logs: 'log',
  cache: 'cache',
  spares: 'spares',
  special: 'special',
  dedup: 'special',
};

function groupKind(word: string): LayoutVdevKind | 'nested' | undefined {
  const m = /^(mirror|raidz[123]?|draid\S*?|replacing|spare)(?:-\d+)?$/.exec(word);
  if (!m) return undefined;
  const group = m[1]!;
  if (group === 'replacing' || group === 'spare') return 'nested';
  if (group === 'mirror') return 'mirror';
  if (group.startsWith('draid')) return 'draid';
  return group === 'raidz' || group === 'raidz1' ? 'raidz' : (group as LayoutVdevKind);
}

const DISTRIBUTED_SPARE = /^draid\d-\d+-\d+$/;

/** Every pool in a `zpool status` output ("no pools available" gives none). */
export function parsePoolStatus(output: string): PoolLayout[] {
  const pools: PoolLayout[] = [];
  for (const block of output.replace(/\r/g, '').split(/^\s*pool: /m).slice(1)) {
    const name = block.slice(0, block.indexOf('\n')).trim();
    const lines = block.split('\n');
    const header = lines.findIndex((l) => /^\s*NAME\s+STATE\b/.test(l));
    if (header < 0) throw new Error(`zpool status: pool ${name} has no config header (NAME STATE ...)`);
    const base = /^\s*/.exec(lines[header]!)![0];
    const layout: PoolLayout = { name, data: [], log: [], cache: [], spares: [], special: [] };
    let section: 'data' | 'log' | 'cache' | 'spares' | 'special' | undefined;
    let top: LayoutVdev | undefined;
    for (const line of lines.slice(header + 1)) {
      if (line.trim() === '' || /^\s*errors:/.test(line)) break;
      if (!line.startsWith(base)) throw new Error(`zpool status: pool ${name}: line not under the config header: ${JSON.stringify(line)}`);
      const rest = line.slice(base.length);
      const level = Math.floor(/^ */.exec(rest)![0].length / 2);
      const word = rest.trim().split(/\s+/)[0]!;
      if (level === 0) {
        if (section === undefined && word === name) section = 'data';
        else if (CLASSES[word]) section = CLASSES[word];
        else throw new Error(`zpool status: pool ${name}: unknown vdev class ${JSON.stringify(word)}`);
        top = undefined;
        continue;
      }
      if (section === undefined) throw new Error(`zpool status: pool ${name}: a device before the pool's own line`);
      const kind = groupKind(word);
      if (section === 'cache' || section === 'spares') {
        // A dRAID's distributed spare (draid2-0-0) is capacity inside the dRAID, not a device.
        if (!DISTRIBUTED_SPARE.test(word)) layout[section].push(word);
        continue;
      }
      if (level === 1) {
        top = kind === undefined ? { kind: 'disk', devices: [word] } : { kind: kind === 'nested' ? 'disk' : kind, devices: [] };
        layout[section].push(top);
      } else if (top && kind === undefined) {
        top.devices.push(word);
      }
    }
    pools.push(layout);
  }
  return pools;
}

/** Every device name in a layout. */
export function layoutDevices(layout: PoolLayout): string[] {
  const vdevs = [...layout.data, ...layout.log, ...layout.special];
  return [...vdevs.flatMap((v) => v.devices), ...layout.cache, ...layout.spares];
}

function describeVdev(vdev: LayoutVdev): string {
  return vdev.kind === 'disk' && vdev.devices.length === 1 ? vdev.devices[0]! : `${vdev.kind}(${vdev.devices.join(', ')})`;
}

/** One line: `sp1: c8t1d0; log c11t0d0` or `tank: mirror(a, b), mirror(c, d); log mirror(e, f); cache g; spare h`. */
export function describeLayout(layout: PoolLayout): string {
  const parts = [layout.data.map(describeVdev).join(', ') || 'no data vdev'];
  if (layout.log.length > 0) parts.push(`log ${layout.log.map(describeVdev).join(', ')}`);
  if (layout.cache.length > 0) parts.push(`cache ${layout.cache.join(', ')}`);
  if (layout.spares.length > 0) parts.push(`spare ${layout.spares.join(', ')}`);
  if (layout.special.length > 0) parts.push(`special ${layout.special.map(describeVdev).join(', ')}`);
  return `${layout.name}: ${parts.join('; ')}`;
}
