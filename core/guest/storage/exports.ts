/**
 * Whether a storage VM's NFS server serves the shares, asked on the VM itself: (1) the server
 * answers on the storage address, where the ESXi hosts reach it: an RPC NULL call to the NFS
 * program at port 2049 (`rpcinfo -n 2049 -t ADDRESS 100003 VERSION`, no portmapper needed, so
 * NFSv4-only servers answer too); (2) its live export table lists each share: `exportfs -v` on
 * Linux (the kernel's table, rebuilt when the NFS server starts), `share` on illumos (sharetab).
 * `showmount -e` is not used: a server may list only the exports the asking address may mount
 * (nfs-ganesha does), and the VM itself is on no access list.
 */
import type { ExportsCheck } from '../../datastore/recover';

/** `exportfs -v`: `PATH<TAB>CLIENT(OPTIONS)`, or the path alone on its line when it is long, clients on the next. */
export function parseExportfs(stdout: string): string[] {
  return [...new Set(stdout.split('\n').filter((line) => line.startsWith('/')).map((line) => line.split(/\s+/)[0]!))];
}

/** illumos `share`: `-  PATH  OPTIONS  "DESCRIPTION"` (the first field is the resource name, `-` for none). */
export function parseShare(stdout: string): string[] {
  return [...new Set(stdout.split('\n').map((line) => line.trim().split(/\s+/)[1] ?? '').filter((path) => path.startsWith('/')))];
}

export function exportsCheck(address: string, listed: string[], wanted: string[]): ExportsCheck {
  const missing = wanted.filter((path) => !listed.includes(path));
  const detail = missing.length === 0
    ? `NFS answers on ${address} and exports ${wanted.join(', ')}`
    : `NFS answers on ${address} but does not export ${missing.join(', ')} (it exports ${listed.join(', ') || 'nothing'})`;
  return { answered: missing.length === 0, missing, detail };
}
