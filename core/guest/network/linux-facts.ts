/**
 * Linux (Debian, ifupdown): the facts script and the parsers of what it prints. Captured outputs
 * are in test/fixtures/guest/network/.
 */
import { sh } from '../../quote';
import { NetworkPlanError } from './errors';
import type { LiveAddress, LiveRoute, NetworkFacts } from './facts';
import { parseIfupdown, INTERFACES_DIR, INTERFACES_FILE } from './ifupdown-parse';
import { parseCidr } from './ipv4';
import { commandOutput, fileText, parseSections, SECTION_FUNCTIONS, type Section } from './sections';

export interface IpLink {
  device: string;
  /** `link/ether`, `link/loopback`... */
  linkType: string;
  /** The virtual kind `ip -d` prints (veth, bridge, vlan...), when there is one. */
  kind?: string;
  up: boolean;
}

const VIRTUAL_KINDS = new Set([
  'veth', 'bridge', 'bond', 'team', 'vlan', 'macvlan', 'macvtap', 'ipvlan', 'vxlan', 'geneve', 'dummy', 'tun',
  'gre', 'gretap', 'ipip', 'sit', 'ip6tnl', 'wireguard', 'vrf', 'nlmon', 'ifb',
]);

/** `ip -o -d link show`: one line per link, its parts separated by a backslash. */
export function parseIpLink(output: string): IpLink[] {
  return output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const m = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>/.exec(line);
      if (!m) throw new NetworkPlanError('FactsUnreadable', `unexpected ip link line: ${JSON.stringify(line.slice(0, 120))}`);
      const parts = line.split('\\').map((p) => p.trim());
      const linkType = /^(link\/\S+)/.exec(parts[1] ?? '')?.[1] ?? 'unknown';
      const kind = parts.slice(2).map((p) => p.split(/\s+/)[0]!).find((w) => VIRTUAL_KINDS.has(w));
      return { device: m[1]!, linkType, kind, up: m[2]!.split(',').includes('UP') };
    });
}

/**
 * The NICs a guest is given: ethernet links that are a device's own (no virtual kind) or a veth
 * (what a container or a network namespace gets), in `ip link`'s order, which is ifindex order.
 */
export const linuxNics = (links: IpLink[]): IpLink[] =>
  links.filter((l) => l.linkType === 'link/ether' && (l.kind === undefined || l.kind === 'veth'));

/** `ip -o -4 addr show`: `2: eth0    inet 192.0.2.41/24 brd ... scope global dynamic eth0\ ...`. */
export function parseIpAddr(output: string): LiveAddress[] {
  const out: LiveAddress[] = [];
  for (const line of output.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\S+)(.*)$/.exec(line);
    if (!m) continue;
    const cidr = parseCidr(m[2]!);
    if (!cidr || m[1] === 'lo') continue;
    const flags = m[3]!.split('\\')[0]!.split(/\s+/);
    out.push({ ...cidr, device: m[1]!, dynamic: flags.includes('dynamic') });
  }
  return out;
}

/** `ip -4 route show`: the routes through a gateway (connected networks need none). */
export function parseIpRoute(output: string): LiveRoute[] {
  const out: LiveRoute[] = [];
  for (const line of output.split('\n')) {
    const words = line.trim().split(/\s+/);
    const via = words.indexOf('via');
    if (via < 1 || !words[via + 1]) continue;
    const to = words[0] === 'default' ? 'default' : words[0]!.includes('/') ? words[0]! : `${words[0]}/32`;
    if (to !== 'default' && !parseCidr(to)) continue;
    const dev = words.indexOf('dev');
    out.push({ to, via: words[via + 1]!, ...(dev > 0 && words[dev + 1] ? { device: words[dev + 1] } : {}) });
  }
  return out;
}

export const LINUX_FACTS_SCRIPT = sh`${SECTION_FUNCTIONS}run link ip -o -d link show
run addr ip -o -4 addr show
run route ip -4 route show
run hostname uname -n
show /etc/network/interfaces
for f in /etc/network/interfaces.d/*; do if [ -f "$f" ]; then show "$f"; fi; done
show /etc/hostname
show /etc/hosts
show /etc/resolv.conf
`;

function requireOk(sections: Map<string, Section>, name: string): string {
  const r = commandOutput(sections, name);
  if (r.code !== 0) throw new NetworkPlanError('FactsUnreadable', `${name} exited with ${r.code} on the guest`);
  return r.output;
}

export function parseLinuxFacts(stdout: string): NetworkFacts {
  const sections = parseSections(stdout);
  const links = parseIpLink(requireOk(sections, 'link'));
  const nics = linuxNics(links);
  const dropIns = [...sections.values()].filter((s) => s.name.startsWith(`${INTERFACES_DIR}/`)).map((s) => fileText(sections, s.name));
  return {
    os: 'linux',
    style: 'ifupdown',
    nics: nics.map((l) => l.device),
    addresses: parseIpAddr(requireOk(sections, 'addr')),
    routes: parseIpRoute(requireOk(sections, 'route')),
    linux: { ifupdown: parseIfupdown(fileText(sections, INTERFACES_FILE), dropIns), linksDown: nics.filter((l) => !l.up).map((l) => l.device) },
    hostName: requireOk(sections, 'hostname').trim(),
    hostNameFile: fileText(sections, '/etc/hostname'),
    hosts: fileText(sections, '/etc/hosts'),
    resolvConf: fileText(sections, '/etc/resolv.conf'),
  };
}
