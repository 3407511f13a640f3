/** Parsers for what a storage host prints when probed. Pure: unit-tested on captured output. */
import { parseZfsSize } from './zfs-size';
import { layoutDevices, parsePoolStatus } from './storage/pool-layout';

export interface PoolSummary {
  name: string;
  sizeBytes: number;
  allocatedBytes: number;
  freeBytes: number;
  health: string;
}

export interface Disk {
  /** The name a pool vdev uses: c8t1d0 on illumos, a path on Linux. */
  name: string;
  sizeBytes: number;
  model?: string;
  /** Name of the pool that uses it, when one does. */
  pool?: string;
}

/** `zpool list -H -p? -o name,size,allocated,free,health`: sizes may be exact bytes or human (1.98G). */
export function parseZpoolList(output: string): PoolSummary[] {
  return output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [name, size, allocated, free, health] = line.split('\t');
      if (!name || health === undefined) throw new Error(`unexpected zpool list line: ${JSON.stringify(line)}`);
      const bytes = (field: string): number => {
        const value = parseZfsSize(field);
        if (value === undefined) throw new Error(`unexpected zpool list line: ${JSON.stringify(line)} (${JSON.stringify(field)} is not a size)`);
        return value;
      };
      return { name, sizeBytes: bytes(size!), allocatedBytes: bytes(allocated!), freeBytes: bytes(free!), health };
    });
}

/** Which pool each device belongs to, from `zpool status`: the devices of every pool's layout. */
export function parsePoolDevices(zpoolStatus: string): Map<string, string> {
  return new Map(parsePoolStatus(zpoolStatus).flatMap((pool) => layoutDevices(pool).map((device): [string, string] => [device, pool.name])));
}

/** Linux: `lsblk -b -d -n -P -o NAME,SIZE,MODEL,TYPE` lines of KEY="value" pairs. */
export function parseLsblk(output: string): Disk[] {
  return output
    .split('\n')
    .map((line) => Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])))
    .filter((f) => f.TYPE === 'disk' && Number(f.SIZE) > 0)
    .map((f) => ({ name: `/dev/${f.NAME}`, sizeBytes: Number(f.SIZE), model: f.MODEL?.trim() || undefined }));
}

/** Disks in a directory (the lab's sparse files and loop devices): `path TAB bytes` lines. */
export function parseDiskFiles(output: string): Disk[] {
  return output
    .split('\n')
    .filter((l) => l.includes('\t'))
    .map((line) => {
      const [name, size] = line.split('\t');
      return { name: name!, sizeBytes: Number(size) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * illumos: `format < /dev/null` lists `N. c8t1d0 <VMware-Virtual disk-1.0-256.00GB>`; the part in
 * angle brackets is the model and, for most drivers, ends in the capacity.
 */
export function parseIllumosFormat(output: string): Disk[] {
  const disks: Disk[] = [];
  for (const line of output.split('\n')) {
    const match = /^\s*\d+\.\s+(c\d+(?:t\d+)?d\d+)\s+<([^>]*)>/.exec(line);
    if (!match) continue;
    const label = match[2]!;
    const size = /-(\d+(?:\.\d+)?[KMGT]B)$/.exec(label);
    disks.push({
      name: match[1]!,
      sizeBytes: size ? (parseZfsSize(size[1]!) ?? 0) : 0,
      model: size ? label.slice(0, size.index) : label,
    });
  }
  return disks;
}
