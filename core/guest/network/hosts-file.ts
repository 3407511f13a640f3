/**
 * The hosts file: one block between marker lines holds the spec's entries (the VM's own name on
 * its management address, the hypervisors' storage names, the other storage VMs); every line
 * outside it is kept byte for byte. A block is added at the end the first time.
 *
 * A name of ours that a line outside the block gives another IPv4 address is refused, not warned
 * about: the NFS shares grant access by name (`root=vh1-nas`), and a lookup returns the first line
 * that names the host, so the outcome would depend on line order and resolver; the line is the
 * operator's, which we never edit. Loopback lines (Debian's `127.0.1.1 uss1`, OpenSolaris'
 * `127.0.0.1 uss1 loghost`) and IPv6 lines do not count: they answer other questions.
 */
import type { HostsEntry } from '../../configure/shared';
import { hostNameProblem, ipv4Problem } from '../../names';
import { shown, shownList } from '../../show';
import { NetworkPlanError } from './errors';
import { isLoopback } from './ipv4';

export const HOSTS_BEGIN = '# esxi-zfs begin';
export const HOSTS_END = '# esxi-zfs end';
const BEGIN_LINE = `${HOSTS_BEGIN}: from the inventory; lines up to "${HOSTS_END}" are replaced`;

export function checkHostsEntries(entries: HostsEntry[]): void {
  const seen = new Map<string, string>();
  for (const e of entries) {
    const bad = ipv4Problem(e.address);
    if (bad) throw new NetworkPlanError('BadNetworkSpec', `hosts entry: ${bad}`);
    if (e.names.length === 0) throw new NetworkPlanError('BadNetworkSpec', `hosts entry ${e.address} has no name`);
    for (const name of e.names) {
      const problem = hostNameProblem(name);
      if (problem) throw new NetworkPlanError('BadNetworkSpec', `hosts entry ${e.address}: ${problem}`);
      const before = seen.get(name.toLowerCase());
      if (before !== undefined && before !== e.address) throw new NetworkPlanError('BadNetworkSpec', `${shown(name)} is given two addresses: ${before} and ${e.address}`);
      seen.set(name.toLowerCase(), e.address);
    }
  }
}

export const hostsBlock = (entries: HostsEntry[]): string[] => [BEGIN_LINE, ...entries.map((e) => `${e.address}\t${e.names.join(' ')}`), HOSTS_END];

/** `content` with our block holding `entries`; the lines outside it unchanged. */
export function mergeHostsBlock(content: string, entries: HostsEntry[]): string {
  checkHostsEntries(entries);
  const lines = content.split('\n');
  const begins = lines.flatMap((l, i) => (l.startsWith(HOSTS_BEGIN) ? [i] : []));
  const ends = lines.flatMap((l, i) => (l.startsWith(HOSTS_END) ? [i] : []));
  if (begins.length > 1 || ends.length > 1 || begins.length !== ends.length || (begins.length === 1 && ends[0]! < begins[0]!)) {
    throw new NetworkPlanError(
      'HostsFileMalformed',
      `the hosts file has ${begins.length} "${HOSTS_BEGIN}" and ${ends.length} "${HOSTS_END}" lines (one of each, in that order, or none): mend it by hand`,
    );
  }
  const outside = begins.length === 1 ? [...lines.slice(0, begins[0]), ...lines.slice(ends[0]! + 1)] : lines;
  const conflicts = conflictingLines(outside, entries);
  if (conflicts.length > 0) {
    throw new NetworkPlanError(
      'HostsConflict',
      `the hosts file gives names of the inventory other addresses, outside the esxi-zfs block: ${shownList(conflicts)}: remove or correct those lines`,
    );
  }
  const block = hostsBlock(entries);
  if (begins.length === 1) return [...lines.slice(0, begins[0]), ...block, ...lines.slice(ends[0]! + 1)].join('\n');
  const base = content === '' || content.endsWith('\n') ? content : `${content}\n`;
  return `${base}${block.join('\n')}\n`;
}

function conflictingLines(lines: string[], entries: HostsEntry[]): string[] {
  const wanted = new Map(entries.flatMap((e) => e.names.map((n) => [n.toLowerCase(), e.address] as const)));
  return lines.filter((line) => {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || address.includes(':') || isLoopback(address)) return false;
    return names.some((n) => {
      const ours = wanted.get(n.toLowerCase());
      return ours !== undefined && ours !== address;
    });
  });
}
