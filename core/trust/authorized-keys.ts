/** authorized_keys on a target: one line per source, forced through the receive guard. */
import { quote } from '../quote';
import { TrustConfigError, checkAddress, checkHostName } from './checks';
import { normalizeDatasets } from './guard';
import { parsePublicKey, requireKey } from './keys';
import { type MergeResult, joinLines, managedName, splitLines } from './lines';
import { GUARD_PATH, MANAGED_TAG, type SourceKey } from './shared';

/** `command="GUARD DATASETS...",from="ADDRESS",no-pty,... KEY esxi-zfs:SOURCE`. */
export function authorizedKeyLine(source: SourceKey): string {
  checkHostName(source.name);
  checkAddress(source.storageAddress);
  const key = requireKey(source.publicKey, `public key of ${source.name}`);
  const datasets = normalizeDatasets(source.datasets);
  if (datasets.length === 0) throw new TrustConfigError(`source ${source.name} has no dataset to send`);
  // The command runs through the user's shell: each dataset is one quoted word (plain words stay as
  // they are); none holds '"' or '\', so the option needs no further escaping.
  const command = [GUARD_PATH, ...datasets].map(quote).join(' ');
  const options = [
    `command="${command}"`,
    `from="${source.storageAddress}"`,
    'no-pty',
    'no-port-forwarding',
    'no-agent-forwarding',
    'no-X11-forwarding',
    'no-user-rc',
  ].join(',');
  return `${options} ${key.type} ${key.blob} ${MANAGED_TAG}${source.name}`;
}

export interface AuthorizedKeyEntry {
  options?: string;
  type: string;
  blob: string;
  comment?: string;
}

/** Splits an authorized_keys line into options (quoted strings may hold spaces), type, blob, comment. */
export function parseAuthorizedKeyLine(line: string): AuthorizedKeyEntry | undefined {
  const text = line.trim();
  if (!text || text.startsWith('#')) return undefined;
  const direct = parsePublicKey(text);
  if (direct) return direct;
  let i = 0;
  let quoted = false;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ' ' || c === '\t')) break;
  }
  const key = parsePublicKey(text.slice(i));
  return key ? { options: text.slice(0, i), ...key } : undefined;
}

/**
 * The new authorized_keys: lines not ours are kept where they are; ours (tagged esxi-zfs:NAME) are
 * replaced in place or appended; ours for sources no longer listed are removed. A line not ours that
 * carries one of our sources' keys is removed too: sshd would let that key in without the guard.
 */
export function mergeAuthorizedKeys(current: string, sources: readonly SourceKey[]): MergeResult {
  const wanted = new Map<string, string>();
  const blobs = new Map<string, string>();
  for (const s of [...sources].sort((a, b) => a.name.localeCompare(b.name))) {
    if (wanted.has(s.name)) throw new TrustConfigError(`source ${s.name} is listed twice`);
    wanted.set(s.name, authorizedKeyLine(s));
    blobs.set(requireKey(s.publicKey, `public key of ${s.name}`).blob, s.name);
  }
  const changed: string[] = [];
  const out: string[] = [];
  const placed = new Set<string>();
  for (const line of splitLines(current)) {
    const entry = parseAuthorizedKeyLine(line);
    const ours = managedName(entry?.comment);
    if (ours === undefined) {
      const holder = entry ? blobs.get(entry.blob) : undefined;
      if (holder !== undefined) {
        changed.push(`removed a line not managed by esxi-zfs that let the key of ${holder} in without the receive guard`);
        continue;
      }
      out.push(line);
      continue;
    }
    const want = wanted.get(ours);
    if (want === undefined) {
      changed.push(`removed the key of ${ours} (no longer a source)`);
      continue;
    }
    if (placed.has(ours)) {
      changed.push(`removed a duplicate key line of ${ours}`);
      continue;
    }
    placed.add(ours);
    if (line !== want) changed.push(`updated the key of ${ours}`);
    out.push(want);
  }
  for (const [name, line] of wanted) {
    if (placed.has(name)) continue;
    changed.push(`authorized the key of ${name}`);
    out.push(line);
  }
  return { content: joinLines(out), changed };
}
