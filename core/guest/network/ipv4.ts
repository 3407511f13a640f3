/** IPv4 addresses and prefixes as the network planners compare them: numbers, not strings. */
import { cidrProblem, ipv4Problem } from '../../names';

/** An interface address: `address` with its prefix length (`10.0.1.41/24`). */
export interface Cidr {
  address: string;
  prefix: number;
}

export function ipv4ToNumber(address: string): number | undefined {
  if (ipv4Problem(address)) return undefined;
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

const maskNumber = (prefix: number) => (prefix === 0 ? 0 : 2 ** 32 - 2 ** (32 - prefix));

/** `255.255.255.0` → 24; undefined for a mask whose ones are not contiguous. */
export function maskToPrefix(mask: string): number | undefined {
  const n = ipv4ToNumber(mask);
  if (n === undefined) return undefined;
  for (let prefix = 0; prefix <= 32; prefix++) if (maskNumber(prefix) === n) return prefix;
  return undefined;
}

/** ifconfig's hexadecimal netmask (`ffffff00`) → 24. */
export function hexMaskToPrefix(hex: string): number | undefined {
  if (!/^(0x)?[0-9a-fA-F]{8}$/.test(hex)) return undefined;
  return maskToPrefix(numberToIpv4(parseInt(hex.replace(/^0x/, ''), 16)));
}

/** `10.0.1.41/24`, or undefined when it is not one. */
export function parseCidr(text: string): Cidr | undefined {
  if (cidrProblem(text)) return undefined;
  const [address, prefix] = text.split('/');
  return { address: address!, prefix: Number(prefix) };
}

export const formatCidr = (c: Cidr): string => `${c.address}/${c.prefix}`;

export const sameCidr = (a: Cidr, b: Cidr): boolean => a.address === b.address && a.prefix === b.prefix;

/** The network `c` is on, as a CIDR (`10.0.1.0/24`). */
export function networkOf(c: Cidr): Cidr {
  const size = 2 ** (32 - c.prefix);
  return { address: numberToIpv4(Math.floor(ipv4ToNumber(c.address)! / size) * size), prefix: c.prefix };
}

/** Whether `address` lies in the network of `on`. */
export function inSubnet(address: string, on: Cidr): boolean {
  const a = ipv4ToNumber(address);
  const b = ipv4ToNumber(on.address);
  if (a === undefined || b === undefined) return false;
  const size = 2 ** (32 - on.prefix);
  return Math.floor(a / size) === Math.floor(b / size);
}

export const isLoopback = (address: string): boolean => address.startsWith('127.') || address === '::1';
