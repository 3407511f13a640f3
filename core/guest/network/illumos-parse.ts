/**
 * Parsers of what illumos prints about its network, for both styles: OmniOS-like (ipadm, dladm,
 * SMF network/physical:default) and the runbook's OpenSolaris snv_134 (nwam or physical:default
 * with /etc/hostname.<if> files, ifconfig, /etc/defaultrouter). Parseable outputs (`-p`) separate
 * fields with ':' and escape a ':' inside a value as '\:'.
 */
import { NetworkPlanError } from './errors';
import type { FileText, LiveAddress, LiveRoute } from './facts';
import { hexMaskToPrefix, maskToPrefix, parseCidr, type Cidr } from './ipv4';

export interface AddrObject {
  /** e1000g0/v4, or e1000g0/? for an address made outside ipadm. */
  handle: string;
  device: string;
  type: string;
  state: string;
  address?: Cidr;
  temporary: boolean;
}

export interface HostnameFile {
  device: string;
  path: string;
  /** The first line's address (a host name in it is looked up in the hosts file), when it says one with a mask. */
  address?: Cidr;
  /** A blank line: the runbook's pitfall (the interfaces after it are not configured at boot). */
  blankLine: boolean;
}

export interface IllumosPersistent {
  /** SMF state per instance: `nwam` and `default` of network/physical (absent: no such instance). */
  services: { nwam?: string; default?: string };
  /** IP interfaces that exist now (ipadm show-if, or plumbed for IPv4 in ifconfig -a). */
  ipInterfaces: string[];
  /** ipadm style: every address object, active or not. */
  addrObjects: AddrObject[];
  /** /etc/hostname.<if> (IPv4) and /etc/dhcp.<if> files. */
  hostnameFiles: FileText[];
  dhcpFiles: string[];
  defaultRouter: FileText;
  /** `route -p show`. */
  persistentRoutes: LiveRoute[];
}

/** Fields of one parseable line: split on ':' not preceded by '\', then unescaped. */
export function splitParseable(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) field += line[++i];
    else if (c === ':') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

const lines = (output: string) => output.split('\n').map((l) => l.trim()).filter((l) => l !== '');

/** `svcs -H -o state,fmri network/physical:nwam network/physical:default`: an instance that does not exist is simply not listed. */
export function parseSvcsPhysical(output: string): IllumosPersistent['services'] {
  const services: IllumosPersistent['services'] = {};
  for (const line of lines(output)) {
    const [state, fmri] = line.split(/\s+/);
    if (fmri?.endsWith('network/physical:nwam')) services.nwam = state;
    if (fmri?.endsWith('network/physical:default')) services.default = state;
  }
  return services;
}

/**
 * `dladm show-phys -p -o link,state`, in the order dladm lists the links (by datalink id). Older
 * builds print `LINK="e1000g0" STATE="up"`: both are read.
 */
export function parseDladmShowPhys(output: string): { link: string; state: string }[] {
  return lines(output).map((line) => {
    const quoted = /LINK="([^"]*)"\s+STATE="([^"]*)"/.exec(line);
    const [link, state] = quoted ? [quoted[1]!, quoted[2]!] : splitParseable(line);
    if (!link) throw new NetworkPlanError('FactsUnreadable', `unexpected dladm show-phys line: ${JSON.stringify(line.slice(0, 120))}`);
    return { link, state: state ?? '' };
  });
}

/** `ipadm show-addr -p -o addrobj,type,state,current,addr` (CURRENT is flags like `U----`; `t` marks a temporary address). */
export function parseIpadmShowAddr(output: string): AddrObject[] {
  return lines(output).map((line) => {
    const [handle, type, state, current, addr] = splitParseable(line);
    if (!handle?.includes('/') || addr === undefined) {
      throw new NetworkPlanError('FactsUnreadable', `unexpected ipadm show-addr line: ${JSON.stringify(line.slice(0, 120))}`);
    }
    const address = parseCidr(addr);
    return { handle, device: handle.slice(0, handle.indexOf('/')), type: type!, state: state!, temporary: current!.includes('t'), ...(address ? { address } : {}) };
  });
}

export const parseIpadmShowIf = (output: string): string[] => lines(output).map((l) => splitParseable(l)[0]!);

/** Addresses that answer: ok (or tentative, about to), IPv4, not on the loopback. */
export const ipadmLiveAddresses = (objects: AddrObject[]): LiveAddress[] =>
  objects
    .filter((o) => o.address && (o.state === 'ok' || o.state === 'tentative') && !o.device.startsWith('lo'))
    .map((o) => ({ ...o.address!, device: o.device, handle: o.handle, dynamic: o.type === 'dhcp', temporary: o.temporary }));

/** `ifconfig -a`: the IPv4 logical interfaces that are up with an address, and the plumbed IPv4 interfaces. */
export function parseIfconfig(output: string): { addresses: LiveAddress[]; plumbed: string[] } {
  const addresses: LiveAddress[] = [];
  const plumbed: string[] = [];
  let current: { name: string; flags: string[] } | undefined;
  for (const line of output.split('\n')) {
    const header = /^(\S+?):\s+flags=[0-9a-fA-F]+<([^>]*)>/.exec(line);
    if (header) {
      const flags = header[2]!.split(',');
      current = flags.includes('IPv4') ? { name: header[1]!, flags } : undefined;
      const device = header[1]!.split(':')[0]!;
      if (current && !device.startsWith('lo') && !plumbed.includes(device)) plumbed.push(device);
      continue;
    }
    const inet = /^\s+inet\s+(\S+)\s+netmask\s+(\S+)/.exec(line);
    if (!inet || !current || !current.flags.includes('UP')) continue;
    const device = current.name.split(':')[0]!;
    const prefix = hexMaskToPrefix(inet[2]!);
    if (device.startsWith('lo') || inet[1] === '0.0.0.0' || prefix === undefined) continue;
    addresses.push({ address: inet[1]!, prefix, device, handle: current.name, dynamic: current.flags.includes('DHCP') });
  }
  return { addresses, plumbed };
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const INTERFACE = /^[A-Za-z][A-Za-z0-9_.]*\d+(:\d+)?$/;

/** `netstat -rnv -f inet`: routes through a gateway (flag G). Columns vary by release; positions 1-3 do not. */
export function parseNetstatRoutes(output: string): LiveRoute[] {
  const out: LiveRoute[] = [];
  for (const line of lines(output)) {
    const w = line.split(/\s+/);
    if (!(w[0] === 'default' || IPV4.test(w[0]!)) || !IPV4.test(w[1] ?? '') || !IPV4.test(w[2] ?? '')) continue;
    const flags = w.slice(3).find((x) => /^[A-Z]+$/.test(x)) ?? '';
    if (!flags.includes('G')) continue;
    const prefix = maskToPrefix(w[1]!);
    if (prefix === undefined) continue;
    const to = w[0] === 'default' || prefix === 0 ? 'default' : `${w[0]}/${prefix}`;
    out.push({ to, via: w[2]!, ...(INTERFACE.test(w[3] ?? '') ? { device: w[3]!.split(':')[0]! } : {}) });
  }
  return out;
}

const classfulPrefix = (address: string) => {
  const first = Number(address.split('.')[0]);
  return first < 128 ? 8 : first < 192 ? 16 : 24;
};

const ROUTE_OPTIONS_WITH_VALUE = new Set(['-netmask', '-ifp', '-ifa', '-mtu', '-hopcount', '-expire', '-recvpipe', '-sendpipe', '-ssthresh', '-rtt', '-rttvar', '-secattr', '-setsrc']);

/** One `route add` argument list, as `route -p show` prints it, to a route; undefined for what is not an IPv4 gateway route. */
export function parseRouteArgs(args: string[]): LiveRoute | undefined {
  const positional: string[] = [];
  let host = false;
  let netmask: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-inet6' || a === '-interface' || a === '-iface') return undefined;
    if (a === '-host') host = true;
    else if (a === '-netmask') netmask = args[++i];
    else if (a === '-gateway') positional.push(args[++i] ?? '');
    else if (ROUTE_OPTIONS_WITH_VALUE.has(a)) i++;
    else if (!a.startsWith('-')) positional.push(a);
  }
  const [dest, via] = positional;
  if (!dest || !via || !IPV4.test(via)) return undefined;
  if (dest === 'default') return { to: 'default', via };
  const [address, length] = dest.split('/');
  const prefix = length !== undefined ? Number(length) : netmask ? maskToPrefix(netmask) : host ? 32 : classfulPrefix(address!);
  const cidr = prefix === undefined ? undefined : parseCidr(`${address}/${prefix}`);
  if (!cidr) return undefined;
  return { to: cidr.prefix === 0 ? 'default' : `${cidr.address}/${cidr.prefix}`, via };
}

/** `route -p show`: `persistent: route add default 192.0.2.1`, or `No persistent routes are defined`. */
export function parseRoutePShow(output: string): LiveRoute[] {
  return lines(output)
    .map((l) => /^persistent:\s+route\s+add\s+(.*)$/.exec(l)?.[1])
    .filter((args): args is string => args !== undefined)
    .map((args) => parseRouteArgs(args.split(/\s+/)))
    .filter((r): r is LiveRoute => r !== undefined);
}

/** The routers of /etc/defaultrouter: the first word of each line that is not a comment. */
export const parseDefaultRouter = (content: string): string[] =>
  lines(content).filter((l) => !l.startsWith('#')).map((l) => l.split(/\s+/)[0]!);

/** The IPv4 address a hosts file gives `name` (the first line that names it), if any. */
export function lookupHosts(hosts: string, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const line of hosts.split('\n')) {
    const words = line.replace(/#.*/, '').trim().split(/\s+/);
    if (IPV4.test(words[0] ?? '') && words.slice(1).some((w) => w.toLowerCase() === wanted)) return words[0];
  }
  return undefined;
}

/**
 * /etc/hostname.<if>: its first line is what ifconfig gets (`10.0.1.41/24`, or
 * `ADDRESS-OR-NAME netmask MASK ...` as in the runbook); a one-line file also gets `netmask +
 * broadcast + up`, so without a prefix or mask the mask comes from /etc/netmasks, which we do not
 * read: such an address counts as unknown.
 */
export function parseHostnameFile(f: FileText, hosts: string): HostnameFile {
  const device = f.path.slice('/etc/hostname.'.length);
  const all = f.content.split('\n');
  if (all[all.length - 1] === '') all.pop();
  const blankLine = all.some((l) => l.trim() === '');
  const words = (all.find((l) => l.trim() !== '') ?? '').trim().split(/\s+/);
  const first = words[0] ?? '';
  const [host, length] = first.split('/');
  const address = host && (IPV4.test(host) ? host : lookupHosts(hosts, host));
  const maskAt = words.indexOf('netmask');
  const prefix = length !== undefined ? Number(length) : maskAt > 0 ? maskToPrefix(words[maskAt + 1] ?? '') : undefined;
  const cidr = address && prefix !== undefined ? parseCidr(`${address}/${prefix}`) : undefined;
  return { device, path: f.path, blankLine, ...(cidr ? { address: cidr } : {}) };
}
