/** Which sharenfs dialect a guest's ZFS reads, asked of the guest: its OS and `zpool upgrade -v`. */
import type { StorageHostRef } from '../../core/hosts';
import { guestProfile } from '../../core/guest/profile';
import { sharenfsDialect, type SharenfsDialect } from '../../core/guest/storage/shares';
import { parsePoolVersionBanner } from '../../core/zfs/parse';
import type { Transport } from '../transport';

export async function readSharenfsDialect(transport: Transport, host: StorageHostRef): Promise<SharenfsDialect> {
  const banner = await transport.runOk(host, [guestProfile(host.os).zpool, 'upgrade', '-v'], { timeoutMs: 60_000 });
  return sharenfsDialect(host.os, parsePoolVersionBanner(banner.stdout));
}
