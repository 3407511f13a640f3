/**
 * NFS clients for lab tests: a network namespace of its own on a lab bridge, and libnfs-utils
 * (nfs-ls, nfs-cat, nfs-cp) run in it against a lab host. libnfs needs no kernel NFS client and,
 * with the ports in the URL, no portmapper: nfs://ADDR/PATH?version=3&nfsport=2049&mountport=20048
 * (NFSv3, as ESXi mounts datastores) or ?version=4&nfsport=2049. As root it uses a port below 1024,
 * as the exports' default `secure` asks.
 */
import { must, run, type ExecResult } from '../exec';
import { MOUNT_PORT, NFS_PORT } from './server';

export type NfsVersion = 3 | 4;

export interface NfsClient {
  netns: string;
  address: string;
}

/** nfs:// URL of a path on a lab host's export (path: the export's path, plus a file in it). */
export function nfsUrl(address: string, filePath: string, version: NfsVersion): string {
  const query = version === 3 ? `version=3&nfsport=${NFS_PORT}&mountport=${MOUNT_PORT}` : `version=4&nfsport=${NFS_PORT}`;
  return `nfs://${address}${encodeURI(filePath)}?${query}`;
}

/**
 * A client namespace `netns` with eth0 at address/prefixLength on `bridge`, joined by veth `veth`
 * (at most 15 characters). Name it with the lab's netns prefix so labDown removes it too.
 */
export async function addNfsClient(c: { netns: string; veth: string; bridge: string; address: string; prefixLength: number }): Promise<NfsClient> {
  await must('ip', ['netns', 'add', c.netns]);
  try {
    await must('ip', ['link', 'add', c.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c.netns]);
    await must('ip', ['link', 'set', 'dev', c.veth, 'master', c.bridge, 'up']);
    await must('ip', ['-n', c.netns, 'addr', 'add', `${c.address}/${c.prefixLength}`, 'dev', 'eth0']);
    await must('ip', ['-n', c.netns, 'link', 'set', 'dev', 'eth0', 'up']);
    await must('ip', ['-n', c.netns, 'link', 'set', 'dev', 'lo', 'up']);
  } catch (error) {
    await removeNfsClient(c);
    throw error;
  }
  return { netns: c.netns, address: c.address };
}

/** Deletes the namespace (and with it both ends of its veth pair). */
export async function removeNfsClient(c: { netns: string }): Promise<void> {
  await run('ip', ['netns', 'delete', c.netns]);
}

/**
 * Runs a libnfs-utils tool in the client's namespace, e.g.
 * nfsTool(client, 'nfs-cp', ['/tmp/x', nfsUrl(host.address, '/sp1/a/x', 3)]).
 * Resolves with its exit code and output; never throws for a failing tool.
 */
export function nfsTool(client: Pick<NfsClient, 'netns'>, tool: 'nfs-ls' | 'nfs-cat' | 'nfs-cp', args: string[], timeoutMs = 60_000): Promise<ExecResult> {
  return run('nsenter', [`--net=/run/netns/${client.netns}`, '--', tool, ...args], { timeoutMs, env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } });
}
