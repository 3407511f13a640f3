import { shown } from './show';

/**
 * Grammars for every name that can reach a shell. Each is at least as strict as the grammar of the
 * system that owns the name (ZFS, DNS, POSIX), and stricter where the system's own grammar admits
 * characters that are dangerous or confusing on a command line (spaces, leading '-').
 */
// ZFS (zfs_namecheck.c) allows [A-Za-z0-9_.:-] and, on some versions, space in a component.
// We refuse the space, components '.' and '..', and any '..' run, and a component starting with '-'.
const ZFS_COMPONENT = /^[A-Za-z0-9_.:][A-Za-z0-9_.:-]*$/;
const ZFS_RESERVED_POOL = /^(mirror|raidz\d*|draid\d*|spare|log|cache|special|dedup)$/;

function zfsComponentProblem(component: string, what: string): string | undefined {
  if (component.length === 0) return `${what} has an empty component (leading, trailing or double '/')`;
  if (component.includes('..')) return `${what} must not contain '..'`;
  if (!ZFS_COMPONENT.test(component)) {
    const bad = [...new Set(component.replace(/[A-Za-z0-9_.:-]/g, ''))].map((c) => JSON.stringify(c));
    return bad.length > 0
      ? `${what} must not contain ${bad.join(', ')}: use letters, digits, '_', '.', ':' and '-'`
      : `${what} component ${shown(component)} must not start with '-'`;
  }
  return undefined;
}

export function poolNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_.:-]*$/.test(name)) {
    return 'pool name must start with a letter and use only letters, digits, \'_\', \'.\', \':\' and \'-\'';
  }
  if (ZFS_RESERVED_POOL.test(name)) return `pool name ${shown(name)} is reserved by ZFS`;
  if (/^c\d/.test(name)) return `pool name ${shown(name)} looks like an illumos disk name (c[0-9]...), which ZFS reserves`;
  if (name.length > 240) return 'pool name is longer than 240 characters';
  return undefined;
}

export function datasetNameProblem(name: string): string | undefined {
  if (name.length > 255) return 'dataset name is longer than 255 characters';
  if (name.includes('@') || name.includes('#')) return 'dataset name must not contain a snapshot (@) or bookmark (#) part';
  const parts = name.split('/');
  const pool = poolNameProblem(parts[0] ?? '');
  if (pool) return `dataset name: ${pool}`;
  for (const part of parts.slice(1)) {
    const problem = zfsComponentProblem(part, 'dataset name');
    if (problem) return problem;
  }
  return undefined;
}

// RFC 1123 host name: dot-separated labels of letters, digits and '-', no '-' at either end.
const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function hostNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > 253) return 'host name must be 1 to 253 characters';
  for (const label of name.split('.')) {
    if (!DNS_LABEL.test(label)) {
      return `host name label ${shown(label)} must use letters, digits and '-' only, not starting or ending with '-'`;
    }
  }
  return undefined;
}

export function userNameProblem(name: string): string | undefined {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name)) {
    return 'user name must start with a lower-case letter or \'_\' and use only a-z, 0-9, \'_\' and \'-\' (at most 32)';
  }
  return undefined;
}

export function absolutePathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'path must be absolute';
  if (!/^\/[A-Za-z0-9._/@+:-]*$/.test(path)) return 'path may only use letters, digits and ._/@+:-';
  if (path.split('/').some((c) => c === '.' || c === '..')) return "path must not contain '.' or '..' components";
  if (path.includes('//')) return "path must not contain '//'";
  return undefined;
}

export function ipv4Problem(address: string): string | undefined {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255)) {
    return `${shown(address)} is not an IPv4 address`;
  }
  return undefined;
}

export function cidrProblem(value: string): string | undefined {
  const [address, prefix, extra] = value.split('/');
  if (extra !== undefined || prefix === undefined) return `${shown(value)} must be an address with a prefix length, like 10.0.1.41/24`;
  if (!/^\d{1,2}$/.test(prefix) || Number(prefix) > 32) return `prefix length ${shown(prefix)} must be 0 to 32`;
  return ipv4Problem(address ?? '');
}

// The OS's own directories: a dataset mounted on one of them (or anywhere below the first list)
// would hide or replace the system. Operators mount datasets under /export, /tank, /srv/x ...
const SYSTEM_TREES = [
  '/etc', '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/boot', '/dev', '/devices',
  '/proc', '/sys', '/system', '/kernel', '/platform', '/root', '/run', '/lost+found',
  '/var/run', '/var/lib', '/var/log', '/var/adm', '/var/svc', '/var/spool', '/var/cache', '/var/mail', '/var/tmp',
];
const SYSTEM_DIRECTORIES = ['/', '/var', '/home', '/opt', '/mnt', '/media', '/srv', '/tmp', '/export', '/net', '/nfs4', '/cdrom'];

export function mountpointProblem(path: string): string | undefined {
  const problem = absolutePathProblem(path);
  if (problem) return problem;
  const bare = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (SYSTEM_DIRECTORIES.includes(bare)) return `${shown(bare)} is a system directory: mount the dataset below it (like /export/vol0)`;
  const tree = SYSTEM_TREES.find((t) => bare === t || bare.startsWith(`${t}/`));
  if (tree) return `${shown(bare)} is in the system's ${tree}: a dataset mounted there would hide the OS's own files`;
  return undefined;
}

/**
 * A disk of a vdev: an illumos device name (c8t1d0), a path under /dev, or a file under the VM's
 * diskDirectory (sparse files in a lab). No '..': `/dev/../etc/shadow` is not under /dev.
 */
export function diskProblem(disk: string, diskDirectory?: string): string | undefined {
  // cNtNdN, and cNtWWNdN for SAS/FC and multipathed disks (c0t5000C500A1B2C3D4d0).
  if (/^c\d+(t(?:\d+|[0-9A-F]{16}))?d\d+(s\d+)?$/.test(disk)) return undefined;
  if (!disk.startsWith('/')) return 'disk must be an illumos name like c8t1d0 or an absolute device path under /dev';
  const problem = absolutePathProblem(disk);
  if (problem) return `disk: ${problem}`;
  if (disk.startsWith('/dev/')) return undefined;
  if (diskDirectory && disk.startsWith(`${diskDirectory.replace(/\/$/, '')}/`)) return undefined;
  return `disk ${shown(disk)} is outside /dev${diskDirectory ? ` and outside diskDirectory ${shown(diskDirectory)}` : ' (name its directory with the VM\'s diskDirectory for file-backed disks)'}`;
}

// vSphere's own rules: inventory names up to 80 characters, and '%', '\' and '/' are escaped by
// vCenter; a standard switch up to 31, a host's port group up to 59. We allow the characters
// real labels use ("VM Network", "VLAN-100 (prod)") and nothing a shell or vCenter treats specially.
const VSPHERE_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9 ._()+-]*[A-Za-z0-9._()+])?$/;

export function portGroupNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > 59) return 'a port group name is 1 to 59 characters';
  if (!VSPHERE_LABEL.test(name)) {
    return "a port group name starts with a letter or digit and uses letters, digits, spaces and ._()+- (no trailing space)";
  }
  return undefined;
}

export function vswitchNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/.test(name)) {
    return 'a vSwitch name starts with a letter or digit and uses letters, digits and ._- (at most 31, like vSwitch1)';
  }
  return undefined;
}

/** A login name for ssh or vSphere: `root`, `zfsadm`, `administrator@vsphere.local`. Never starts with '-'. */
export function loginNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/.test(name)) {
    return "a login name starts with a letter, digit or '_' and uses letters, digits and _.@- (at most 64)";
  }
  return undefined;
}

/**
 * Where a private key lives: an absolute path or one under `~/`. Its messages never repeat the
 * value: what was written there may be the key itself.
 */
export function keyFilePathProblem(path: string): string | undefined {
  if (/PRIVATE KEY|[\r\n]/.test(path) || path.length > 1024) {
    return 'privateKeyFile holds a key, not a path: put the key in a file only you can read and name that file, or name a variable with privateKeyEnv';
  }
  const rest = path.startsWith('~/') ? path.slice(1) : path;
  if (!rest.startsWith('/')) return 'privateKeyFile must be an absolute path or start with ~/';
  const problem = absolutePathProblem(rest);
  return problem ? `privateKeyFile: ${problem}` : undefined;
}

/** A ZFS property value written by the inventory: a word for `zfs set name=value` that is never an option. */
export function propertyValueProblem(value: string): string | undefined {
  if (value.length === 0) return 'an empty value: leave the property out to inherit it';
  if (value.length > 1024) return 'a property value is at most 1024 characters';
  if (!/^[A-Za-z0-9_.,:=@/+][A-Za-z0-9_.,:=@/+-]*$/.test(value)) {
    return "property values use letters, digits and _.,:=@/+- and do not start with '-'";
  }
  return undefined;
}

/**
 * A network interface as the guest names it: Linux's IFNAMSIZ allows 15 characters (eth0, ens224,
 * enp11s0f1), illumos links are a driver and an instance (e1000g0, vmxnet3s1). Never an option.
 */
export function interfaceNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_.]{0,14}$/.test(name)) {
    return 'an interface name starts with a letter and uses letters, digits, _ and . (at most 15, like e1000g0 or eth1)';
  }
  return undefined;
}
