/**
 * Each storage VM's pool and datasets as ZFS will see them: disks where they may be, each in one
 * vdev; one dataset per mountpoint; names that leave room for the snapshots replication takes.
 */
import { diskProblem } from '../../core/names';
import { arr, duplicates, type Finding, obj, type Path, str, type Raw, type VmEntry } from './raw';

/** ZFS_MAX_DATASET_NAME_LEN (256) less its NUL: the longest snapshot name, `dataset@snapshot`. */
const ZFS_NAME_MAX = 255;
/** `@${prefix}_YYYYMMDDTHHMMSSZ` (core/zfs/snapshot-name.ts) less the prefix: '@', '_' and the stamp. */
const SNAPSHOT_SUFFIX = 1 + 1 + 16;

const GROUPS = ['mirror', 'raidz', 'raidz2', 'raidz3'] as const;

/** Every disk a pool names exactly, with its path: single-disk vdevs, members of groups, cache and spares. */
function namedDisks(pool: Raw | undefined, path: Path): { value: string; path: Path }[] {
  const named: { value: string; path: Path }[] = [];
  const add = (entry: unknown, at: Path) => {
    const disk = str(obj(entry)?.disk);
    if (disk !== undefined) named.push({ value: disk, path: [...at, 'disk'] });
  };
  for (const role of ['data', 'log', 'cache', 'spares'] as const) {
    arr(pool?.[role]).forEach((v, k) => {
      add(v, [...path, role, k]);
      for (const group of GROUPS) arr(obj(v)?.[group]).forEach((member, m) => add(member, [...path, role, k, group, m]));
    });
  }
  return named;
}

function diskFindings({ path, vm }: VmEntry): Finding[] {
  const diskDirectory = str(vm.diskDirectory);
  const disks = namedDisks(obj(vm.pool), [...path, 'pool']);
  const findings: Finding[] = [];
  for (const { value, path: at } of disks) {
    const problem = diskProblem(value, diskDirectory);
    if (problem) findings.push({ path: at, message: problem });
  }
  findings.push(...duplicates(disks, 'disk (one disk can be in one vdev only)'));
  return findings;
}

/** Where each dataset mounts: its own mountpoint, else its nearest listed ancestor's plus the rest of its name, else /name. */
function mountpointFindings({ path, vm }: VmEntry): Finding[] {
  const datasets = arr(vm.datasets).map((d, j) => ({ d: obj(d), j }));
  const explicit = new Map<string, string>();
  for (const { d } of datasets) {
    const name = str(d?.name);
    const mountpoint = str(d?.mountpoint);
    if (name !== undefined && mountpoint !== undefined) explicit.set(name, mountpoint.replace(/(.)\/$/, '$1'));
  }
  const effective = (name: string): string => {
    for (let at = name; at.includes('/'); at = at.slice(0, at.lastIndexOf('/'))) {
      const mount = explicit.get(at);
      if (mount !== undefined) return `${mount}${name.slice(at.length)}`.replace('//', '/');
    }
    return explicit.get(name) ?? `/${name}`;
  };
  return duplicates(
    datasets.map(({ d, j }) => {
      const name = str(d?.name);
      return { value: name === undefined ? undefined : effective(name), path: [...path, 'datasets', j, str(d?.mountpoint) === undefined ? 'name' : 'mountpoint'] };
    }),
    'mountpoint',
  );
}

function snapshotRoomFindings({ path, vm }: VmEntry, prefix: string): Finding[] {
  const room = ZFS_NAME_MAX - SNAPSHOT_SUFFIX - prefix.length;
  const findings: Finding[] = [];
  arr(vm.datasets).forEach((d, j) => {
    const ds = obj(d);
    const target = obj(ds?.replicateTo);
    if (!target) return;
    const check = (name: string | undefined, at: Path) => {
      if (name !== undefined && name.length > room) {
        findings.push({ path: at, message: `a ${name.length}-character name leaves no room for the snapshot suffix (@${prefix}_YYYYMMDDTHHMMSSZ): at most ${room} characters within ZFS's ${ZFS_NAME_MAX}` });
      }
    };
    check(str(ds?.name), [...path, 'datasets', j, 'name']);
    check(str(target.dataset), [...path, 'datasets', j, 'replicateTo', 'dataset']);
  });
  return findings;
}

export function storageFindings(root: Raw, vms: VmEntry[]): Finding[] {
  const prefix = str(obj(root.replication)?.snapshotPrefix) ?? 'esxi-zfs';
  return vms.flatMap((entry) => [...diskFindings(entry), ...mountpointFindings(entry), ...snapshotRoomFindings(entry, prefix)]);
}

