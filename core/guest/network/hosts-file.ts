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
 * One exception: the line an installer wrote for the VM's own name (`192.0.2.41 uss1.example uss1`)
 * goes stale when the management address moves; a line naming only the VM itself (short name and
 * FQDNs) is commented out (`#esxi-zfs-off# `) so the block's entry answers.
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

export const HOSTS_OFF = '#esxi-zfs-off# ';

/** `content` with our block holding `entries`; the lines outside it unchanged but a stale line of `self` (above). */
export function mergeHostsBlock(content: string, entries: HostsEntry[], self?: string): string {
  checkHostsEntries(entries);
  const lines = content.split('\n').map((line) => (self !== undefined && staleSelfLine(line, entries, self) ? `${HOSTS_OFF}${line}` : line));
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
  const kept = lines.join('\n');
  const base = kept === '' || kept.endsWith('\n') ? kept : `${kept}\n`;
  return `${base}${block.join('\n')}\n`;
}

/** An installer's line for the VM's own name (and its FQDNs only) with an address the spec does not give it. */
function staleSelfLine(line: string, entries: HostsEntry[], self: string): boolean {
  const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
  if (!address || address.includes(':') || isLoopback(address) || names.length === 0) return false;
  const short = self.split('.')[0]!.toLowerCase();
  const selfOnly = names.every((n) => n.toLowerCase() === short || n.toLowerCase().startsWith(`${short}.`));
  const ours = entries.find((e) => e.names.some((n) => n.toLowerCase() === short))?.address;
  return selfOnly && ours !== undefined && ours !== address;
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
