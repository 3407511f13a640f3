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

function diskFindings({ path, vm }: VmEntry): Finding[] {
  const findings: Finding[] = [];
  const diskDirectory = str(vm.diskDirectory);
  const pool = obj(vm.pool);
  const disks: { value?: string; path: Path }[] = [];
  for (const group of ['data', 'log', 'cache'] as const) {
    arr(pool?.[group]).forEach((v, k) => {
      const disk = str(obj(v)?.disk);
      if (disk === undefined) return;
      const at: Path = [...path, 'pool', group, k, 'disk'];
      const problem = diskProblem(disk, diskDirectory);
      if (problem) findings.push({ path: at, message: problem });
      disks.push({ value: disk, path: at });
    });
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

