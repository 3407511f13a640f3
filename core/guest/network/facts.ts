/**
 * What the planners know about a guest's network, the same shape for every OS: its NICs in the
 * order the OS lists them, live IPv4 addresses and routes, what is configured to come back after a
 * reboot (in the OS's own terms), and the name-resolution files. Parsed from one facts script per
 * OS (linux-facts.ts, illumos-facts.ts).
 */
import type { OsProfile } from '../../hosts';
import type { Cidr } from './ipv4';
import type { IfupdownConfig } from './ifupdown-parse';
import type { IllumosPersistent } from './illumos-parse';

/** How the guest keeps its network configuration: Debian ifupdown, illumos ipadm, or the runbook's /etc/hostname.<if> files. */
export type NetworkStyleName = 'ifupdown' | 'ipadm' | 'legacy';

export interface LiveAddress extends Cidr {
  /** The NIC (e1000g0, eth1): never a logical name. */
  device: string;
  /** illumos: the address object (e1000g0/v4) or logical interface (e1000g0:1) that holds it. */
  handle?: string;
  /** Given by a DHCP client (Linux `dynamic`, illumos `dhcp`/DHCP flag). */
  dynamic: boolean;
  /** ipadm: made with -t, gone at reboot. */
  temporary?: boolean;
}

export interface LiveRoute {
  /** `default` or a network CIDR. */
  to: string;
  via: string;
  device?: string;
}

export interface FileText {
  path: string;
  exists: boolean;
  content: string;
  mode?: string;
  uid?: number;
  gid?: number;
  /** The file is a symlink (its `ls -ld` line): written files would replace the link. */
  symlink?: string;
}

export interface NetworkFacts {
  os: OsProfile;
  style: NetworkStyleName;
  /** The guest's NICs in the order the OS lists them (see nic-mapping.ts for why that order). */
  nics: string[];
  addresses: LiveAddress[];
  routes: LiveRoute[];
  /** Linux: the ifupdown files and the NICs whose link is down. */
  linux?: { ifupdown: IfupdownConfig; linksDown: string[] };
  /** illumos: the SMF network services, IP interfaces, ipadm's address objects, the legacy files, persistent routes. */
  illumos?: IllumosPersistent;
  /** The running host name (`uname -n`) and the file that sets it at boot (/etc/hostname, /etc/nodename). */
  hostName: string;
  hostNameFile: FileText;
  hosts: FileText;
  resolvConf: FileText;
  /** illumos only. */
  nsswitch?: FileText;
  nsswitchDns?: FileText;
}
