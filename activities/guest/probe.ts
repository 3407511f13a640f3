/** Reads what a storage host is: OS, ZFS version, pools and the disks a pool could use. */
import type { Transport } from '../transport';
import type { StorageHostRef } from '../../core/hosts';
import { guestProfile } from '../../core/guest/profile';
import { parsePoolDevices, parseZpoolList, type Disk, type PoolSummary } from '../../core/guest/probe-parse';
import { parseFilesystemVersionBanner, parsePoolVersionBanner } from '../../core/zfs/parse';
import type { PoolVersion } from '../../core/zfs/capabilities';

export interface StorageHostFacts {
  host: string;
  os: { name: string; release: string; hostname: string };
  /** What the host's ZFS supports: pool version (or feature flags) and filesystem version. */
  zfs: { pool: PoolVersion; filesystem: number };
  pools: PoolSummary[];
  disks: Disk[];
}

export function createProbeActivities(deps: { transport: Transport }) {
  const { transport } = deps;
  return {
    async probeStorageHost(host: StorageHostRef): Promise<StorageHostFacts> {
      const profile = guestProfile(host.os);
      const output = async (argv: string[]) => (await transport.runOk(host, argv, { timeoutMs: 60_000 })).stdout;
      // uname prints its fields in a fixed order: kernel name, node name, release.
      const [name, hostname, release] = (await output(['uname', '-s', '-n', '-r'])).trim().split(/\s+/);
      // Both print their banner first and may exit non-zero after it on some versions: read the text.
      const zpoolUpgrade = await transport.run(host, [profile.zpool, 'upgrade', '-v'], { timeoutMs: 60_000 });
      const zfsUpgrade = await transport.run(host, [profile.zfs, 'upgrade'], { timeoutMs: 60_000 });
      const zfs = { pool: parsePoolVersionBanner(zpoolUpgrade.stdout), filesystem: parseFilesystemVersionBanner(zfsUpgrade.stdout) };
      const pools = parseZpoolList(await output([profile.zpool, 'list', '-H', '-o', 'name,size,allocated,free,health']));
      const devices = parsePoolDevices(pools.length > 0 ? await output([profile.zpool, 'status']) : '');
      const disks: Disk[] = [];
      for (const listing of profile.diskListings(host.diskDirectory)) {
        for (const disk of listing.parse(await output(listing.argv))) {
          const inPool = devices.get(disk.name) ?? devices.get(disk.name.replace(/^\/dev\//, ''));
          disks.push(inPool ? { ...disk, pool: inPool } : disk);
        }
      }
      return { host: host.name, os: { name: name ?? '', release: release ?? '', hostname: hostname ?? '' }, zfs, pools, disks };
    },
  };
}
