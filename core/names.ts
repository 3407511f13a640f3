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
      : `${what} component '${component}' must not start with '-'`;
  }
  return undefined;
}

export function poolNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_.:-]*$/.test(name)) {
    return 'pool name must start with a letter and use only letters, digits, \'_\', \'.\', \':\' and \'-\'';
  }
  if (ZFS_RESERVED_POOL.test(name)) return `pool name '${name}' is reserved by ZFS`;
  if (/^c\d/.test(name)) return `pool name '${name}' looks like an illumos disk name (c[0-9]...), which ZFS reserves`;
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
      return `host name label '${label}' must use letters, digits and '-' only, not starting or ending with '-'`;
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
    return `'${address}' is not an IPv4 address`;
  }
  return undefined;
}

export function cidrProblem(value: string): string | undefined {
  const [address, prefix, extra] = value.split('/');
  if (extra !== undefined || prefix === undefined) return `'${value}' must be an address with a prefix length, like 10.0.1.41/24`;
  if (!/^\d{1,2}$/.test(prefix) || Number(prefix) > 32) return `prefix length '${prefix}' must be 0 to 32`;
  return ipv4Problem(address ?? '');
}
