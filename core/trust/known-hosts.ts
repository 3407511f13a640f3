/** known_hosts on a source: its targets' host keys, pinned from the inventory. */
import { TrustConfigError, checkAddress, checkHostName } from './checks';
import { type PublicKey, parsePublicKey, requireKey } from './keys';
import { type MergeResult, joinLines, managedName, splitLines } from './lines';
import { MANAGED_TAG, type PinnedTarget } from './shared';

/** The host patterns ssh looks up for a target: `[ADDRESS]:PORT` form when the port is not 22. */
export function knownHostPatterns(target: PinnedTarget): string[] {
  const port = target.port ?? 22;
  const names = [target.storageAddress, target.name];
  return port === 22 ? names : names.map((n) => `[${n}]:${port}`);
}

/** `ADDRESS,NAME TYPE BLOB esxi-zfs:NAME`, from the pinned key in the inventory. */
export function knownHostsLine(target: PinnedTarget): string {
  checkHostName(target.name);
  checkAddress(target.storageAddress);
  const key = requireKey(target.hostKey, `pinned host key of ${target.name}`);
  return `${knownHostPatterns(target).join(',')} ${key.type} ${key.blob} ${MANAGED_TAG}${target.name}`;
}

interface KnownHostEntry {
  marker?: string;
  hosts: string;
  key: PublicKey;
}

function parseKnownHostsLine(line: string): KnownHostEntry | undefined {
  const text = line.trim();
  if (!text || text.startsWith('#')) return undefined;
  const fields = text.split(/\s+/);
  const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
  const hosts = fields.shift();
  const key = parsePublicKey(fields.join(' '));
  if (!hosts || !key) return undefined;
  return marker ? { marker, hosts, key } : { hosts, key };
}

/** ssh's hashed host name: base64 HMAC-SHA1 of the name keyed by the base64 salt (the caller's crypto). */
export type HashHostName = (saltBase64: string, name: string) => string;

/** Whether a known_hosts host field names `pattern` (plain, or hashed `|1|salt|hash`). */
function hostFieldNames(field: string, pattern: string, hashHostName: HashHostName): boolean {
  return field.split(',').some((h) => {
    if (!h.startsWith('|1|')) return h === pattern;
    const [, , salt, hash] = h.split('|');
    if (!salt || !hash) return false;
    return hashHostName(salt, pattern) === hash;
  });
}

/**
 * The new known_hosts: ours (tagged esxi-zfs:NAME) replaced in place or appended, ours for targets
 * no longer listed removed, other lines kept — except a line that pins a key for one of our
 * targets' names or addresses: ssh accepts any key listed for a host, so it would weaken the pin.
 */
export function mergeKnownHosts(current: string, targets: readonly PinnedTarget[], hashHostName: HashHostName): MergeResult {
  const wanted = new Map<string, string>();
  const patterns: [string, string][] = [];
  for (const t of [...targets].sort((a, b) => a.name.localeCompare(b.name))) {
    if (wanted.has(t.name)) throw new TrustConfigError(`target ${t.name} is listed twice`);
    wanted.set(t.name, knownHostsLine(t));
    for (const p of knownHostPatterns(t)) patterns.push([p, t.name]);
  }
  const changed: string[] = [];
  const out: string[] = [];
  const placed = new Set<string>();
  for (const line of splitLines(current)) {
    const entry = parseKnownHostsLine(line);
    const ours = managedName(entry?.key.comment);
    if (ours === undefined) {
      const clash = entry && entry.marker !== '@revoked' ? patterns.find(([p]) => hostFieldNames(entry.hosts, p, hashHostName)) : undefined;
      if (clash) {
        changed.push(`removed a line not managed by esxi-zfs that listed a key for ${clash[1]} (${clash[0]})`);
        continue;
      }
      out.push(line);
      continue;
    }
    const want = wanted.get(ours);
    if (want === undefined) {
      changed.push(`removed the host key of ${ours} (no longer a target)`);
      continue;
    }
    if (placed.has(ours)) {
      changed.push(`removed a duplicate host key line of ${ours}`);
      continue;
    }
    placed.add(ours);
    if (line !== want) changed.push(`updated the pinned host key of ${ours}`);
    out.push(want);
  }
  for (const [name, line] of wanted) {
    if (placed.has(name)) continue;
    changed.push(`pinned the host key of ${name}`);
    out.push(line);
  }
  return { content: joinLines(out), changed };
}
