/** Export clients: `*`, an IPv4 address or subnet, or a host name resolved in the host's /etc/hosts. */
import { ExportfsError } from './paths';

export type Client =
  | { kind: 'any' }
  | { kind: 'address'; address: string }
  | { kind: 'subnet'; network: string; prefix: number }
  | { kind: 'name'; name: string };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/;

const ipToInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** A client as exports(5) writes it; netgroups, wildcards, IPv6 and GSS names are refused. */
export function parseClient(spec: string): Client {
  if (spec === '*') return { kind: 'any' };
  if (IPV4.test(spec)) return { kind: 'address', address: spec };
  const slash = spec.indexOf('/');
  if (slash > 0 && IPV4.test(spec.slice(0, slash))) {
    const mask = spec.slice(slash + 1);
    let prefix: number;
    if (/^\d{1,2}$/.test(mask) && Number(mask) <= 32) prefix = Number(mask);
    else if (IPV4.test(mask) && /^1*0*$/.test(ipToInt(mask).toString(2).padStart(32, '0'))) prefix = ipToInt(mask).toString(2).replace(/0+$/, '').length;
    else throw new ExportfsError(`bad network mask in client "${spec}"`);
    const size = 2 ** (32 - prefix);
    return { kind: 'subnet', network: intToIp(Math.floor(ipToInt(spec.slice(0, slash)) / size) * size), prefix };
  }
  if (HOST_NAME.test(spec) && !/^[\d.]+$/.test(spec)) return { kind: 'name', name: spec.replace(/\.$/, '') };
  throw new ExportfsError(`client "${spec}" is not served by the lab's NFS server (addresses, IPv4 networks, host names from /etc/hosts and * only; no @netgroups, wildcards or IPv6)`);
}

/** nfs-utils' order of client types: hosts, then networks, then everyone. */
export const clientRank = (c: Client): number => (c.kind === 'any' ? 2 : c.kind === 'subnet' ? 1 : 0);

/** Addresses of a name in hosts(5) text (IPv4 only), in file order. */
export function addressesIn(hostsText: string, name: string): string[] {
  const found: string[] = [];
  for (const line of hostsText.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (address && IPV4.test(address) && names.some((n) => n.toLowerCase() === name.toLowerCase()) && !found.includes(address)) found.push(address);
  }
  return found;
}
