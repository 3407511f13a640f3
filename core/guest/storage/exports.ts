/**
 * Whether a storage VM's NFS server serves the shares: `showmount -e ADDRESS` run on the VM itself,
 * against its storage address. That asks rpcbind and the MOUNT service over the network for the
 * server's live export list (not a file left from before the reboot), the list an NFSv3 client such
 * as ESXi reads. Both illumos and Linux print a header line, then `PATH CLIENTS` per export.
 */
import type { ExportsCheck } from '../../datastore/recover';

/** The exported paths of `showmount -e` output. */
export function parseShowmount(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('/'))
    .map((line) => line.trim().replace(/\s+\S+$/, ''));
}

export function exportsCheck(address: string, listed: string[], wanted: string[]): ExportsCheck {
  const missing = wanted.filter((path) => !listed.includes(path));
  const detail = missing.length === 0
    ? `${address} exports ${wanted.join(', ')}`
    : `${address} answers but does not export ${missing.join(', ')} (it exports ${listed.join(', ') || 'nothing'})`;
  return { answered: missing.length === 0, missing, detail };
}
