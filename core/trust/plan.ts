/**
 * Replication trust as data: the runbook's "zfsadm user, key pair, authorized keys" steps, made
 * least-privilege. Pure (no I/O), so every command and every file this product writes is checked by
 * golden tests, including the illumos plan that cannot run on a Linux machine.
 *
 * On every storage VM:
 *   - the replication user (runbook: `useradd ... -P 'ZFS File System Management' zfsadm`), able
 *     to log in with a key only;
 *   - its key pair, generated on the host (the private key never leaves it);
 *   - the receive guard: the forced command of every key authorized for that user. It runs exactly
 *     `zfs receive -u [-s] DATASET` for the datasets this host receives into, nothing else;
 *   - the privilege that command needs: a sudoers file with exact-argument rules (Linux; zfs-fuse has
 *     no working `zfs allow`) or `zfs allow` delegation on the parent dataset (illumos, OpenZFS).
 * Then every target authorizes its sources' keys (with the guard, `from=` and no forwarding) and
 * every source pins its targets' host keys from the inventory (never from ssh-keyscan).
 */
import { quote } from '../quote';
import { datasetNameProblem, hostNameProblem, userNameProblem } from '../names';
import type { StorageHostRef } from '../hosts';
import type { OsProfile } from '../hosts';
import { guestProfile, type PlannedCommand } from '../guest/profile';

// ------------------------------------------------------------------------------------------------
// Types shared with the workflow (type-only there).

export interface TrustEdge {
  source: StorageHostRef;
  target: StorageHostRef;
  /** The dataset on the target that the source's stream is received into. */
  targetDataset: string;
}

export interface SetupReplicationTrustInput {
  hosts: StorageHostRef[];
  /** The replication user on every storage VM (default zfsadm). */
  user?: string;
  edges: TrustEdge[];
}

/** What one activity changed on one host: empty `changed` means it found everything in place. */
export interface TrustChange {
  changed: string[];
  warnings: string[];
}

export interface SourceKey {
  name: string;
  storageAddress: string;
  /** `ssh-ed25519 AAAA... comment`: the public half only. */
  publicKey: string;
  datasets: string[];
}

export interface PinnedTarget {
  name: string;
  storageAddress: string;
  port?: number;
  /** The inventory's pinned host key, `ssh-ed25519 AAAA...`. */
  hostKey: string;
}

export const GUARD_PATH = '/usr/local/libexec/esxi-zfs/receive-guard';
/** The tag at the end of every line this product manages in authorized_keys and known_hosts. */
export const MANAGED_TAG = 'esxi-zfs:';
export const KEY_FILE = '.ssh/id_ed25519';
export const AUTHORIZED_KEYS_FILE = '.ssh/authorized_keys';
export const KNOWN_HOSTS_FILE = '.ssh/known_hosts';
/** The `zfs allow` set that stands for the runbook's rights profile (profiles/illumos.ts). */
export const ZFS_ALLOW_PERMISSIONS = ['receive', 'create', 'mount', 'hold', 'release'] as const;

export const sudoersFile = (user: string) => `/etc/sudoers.d/esxi-zfs-${user}`;

// ------------------------------------------------------------------------------------------------
// Validation: every name that reaches a shell, sudoers or authorized_keys is checked here first.

export class TrustConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrustConfigError';
  }
}

/** Characters `quote()` leaves alone: a dataset made of them is sent by the source verbatim. */
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function checkUser(user: string): void {
  const problem = userNameProblem(user);
  if (problem) throw new TrustConfigError(`replication user '${user}': ${problem}`);
}

export function checkDataset(dataset: string): void {
  const problem = datasetNameProblem(dataset);
  if (problem) throw new TrustConfigError(`dataset '${dataset}': ${problem}`);
  // The guard compares the client's command text with "zfs receive -u DATASET": the dataset must be
  // a word the source's shell quoting leaves as is, or the two would never be equal.
  if (!PLAIN_WORD.test(dataset) || dataset.includes(',')) throw new TrustConfigError(`dataset '${dataset}' has characters the receive guard cannot match`);
}

export function checkHostName(name: string): void {
  const problem = hostNameProblem(name);
  if (problem) throw new TrustConfigError(`host '${name}': ${problem}`);
}

const ADDRESS = /^[0-9A-Za-z.:-]+$/;
export function checkAddress(address: string): void {
  if (!ADDRESS.test(address)) throw new TrustConfigError(`address '${address}' is not an IP address or host name`);
}

// ------------------------------------------------------------------------------------------------
// Keys

const KEY_TYPE = /^(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface PublicKey {
  type: string;
  blob: string;
  comment?: string;
}

/** `type base64 [comment]`, or undefined when it is not one. */
export function parsePublicKey(text: string): PublicKey | undefined {
  const [type, blob, ...rest] = text.trim().split(/\s+/);
  if (!type || !blob || !KEY_TYPE.test(type) || !BASE64.test(blob)) return undefined;
  const comment = rest.join(' ');
  return comment ? { type, blob, comment } : { type, blob };
}

function requireKey(text: string, what: string): PublicKey {
  const key = parsePublicKey(text);
  if (!key) throw new TrustConfigError(`${what} is not an OpenSSH public key line ("ssh-ed25519 AAAA..."): ${JSON.stringify(text.slice(0, 80))}`);
  return key;
}

// ------------------------------------------------------------------------------------------------
// Facts read from a host

export interface PasswdEntry {
  user: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** One `getent passwd USER` line. */
export function parsePasswd(line: string): PasswdEntry | undefined {
  const f = line.trim().split(':');
  if (f.length < 7) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || !f[5]) return undefined;
  return { user: f[0]!, uid, gid, home: f[5], shell: f[6] ?? '' };
}

/** The password field of a `/etc/shadow` line. */
export function shadowPassword(line: string): string | undefined {
  const f = line.trim().split(':');
  return f.length >= 2 ? f[1] : undefined;
}

// ------------------------------------------------------------------------------------------------
// 1. The replication user


export interface UserFacts {
  passwd?: PasswdEntry;
  /** The password field of its shadow entry (`!`, `*`, `*LK*`, `NP`, a hash...). */
  password?: string;
}

const NO_LOGIN_SHELLS = new Set(['/usr/sbin/nologin', '/sbin/nologin', '/bin/false', '/usr/bin/false']);

/**
 * Commands that make `user` a replication user able to log in with a key and only a key.
 * With `UsePAM no`, OpenSSH refuses an account whose password is locked (`!` on Linux, `*LK*` on
 * illumos), so a new account gets "no password, not locked": `*` on Linux, `passwd -N` (NP) on illumos.
 */
export function replicationUserPlan(os: OsProfile, user: string, facts: UserFacts): PlannedCommand[] {
  checkUser(user);
  const profile = guestProfile(os);
  if (!facts.passwd) return profile.createKeyOnlyUser(user);
  const unlock = profile.unlockKeyLogin(user, facts.password);
  return [
    ...(unlock ? [unlock] : []),
    ...(NO_LOGIN_SHELLS.has(facts.passwd.shell)
      ? [{ argv: ['usermod', '-s', '/bin/sh', user], change: `${user}: shell ${facts.passwd.shell} cannot run the forced command: set /bin/sh` }]
      : []),
  ];
}

// ------------------------------------------------------------------------------------------------
// 3. The receive guard and its privilege

/**
 * How the replication user may run `zfs receive`: `zfs allow` delegation (the runbook's "ZFS File
 * System Management" profile) where the host's zfs delegates, else an exact-argument sudo rule.
 * Chosen from what the host can do (`zfs allow POOL` answers or not), not from its OS: OpenZFS on
 * Linux delegates, zfs-fuse cannot. With no pool to ask yet, the OS's usual answer.
 */
export type ReceivePrivilege = 'zfs-allow' | 'sudo';

export function receivePrivilege(zfsAllowWorks: boolean | undefined, os: OsProfile): ReceivePrivilege {
  if (zfsAllowWorks === undefined) return os === 'illumos' ? 'zfs-allow' : 'sudo';
  return zfsAllowWorks ? 'zfs-allow' : 'sudo';
}

export interface GuardPaths {
  /** Absolute path of zfs on the host (`command -v zfs` at install time). */
  zfs: string;
  /** Absolute path of sudo, where `zfs allow` cannot delegate (zfs-fuse); none where it does. */
  sudo?: string;
  /** Absolute path of perl (Linux, where present): grows the guard's stdin pipe. */
  perl?: string;
}

/** The allowed datasets, validated, de-duplicated, in a stable order. */
export function normalizeDatasets(datasets: readonly string[]): string[] {
  for (const d of datasets) checkDataset(d);
  return [...new Set(datasets)].sort();
}

/** Grows the pipe on stdin to 1 MiB (F_SETPIPE_SZ is 1031 on Linux), silently where it cannot. */
export function growStdinPipe(perl: string): string {
  return `${quote(perl)} -e 'fcntl(STDIN, 1031, 1 << 20)' 2>/dev/null`;
}

/**
 * The forced command. POSIX sh; its arguments are the allowed datasets. It compares
 * $SSH_ORIGINAL_COMMAND as a whole string with `zfs receive -u DATASET` and
 * `zfs receive -u -s DATASET` (exactly what the source sends, see receiveCommand), and runs the
 * matching receive with the privilege prefix baked in at install time. Anything else is refused.
 */
export function guardScript(paths: GuardPaths): string {
  for (const p of [paths.zfs, paths.sudo, paths.perl]) {
    if (p !== undefined && !/^\/[A-Za-z0-9_./-]+$/.test(p)) throw new TrustConfigError(`not an absolute path: ${p}`);
  }
  const run = [...(paths.sudo ? [paths.sudo, '-n'] : []), paths.zfs].map(quote).join(' ');
  const growPipe = paths.perl
    ? `# The stream comes from sshd through a 64 KiB pipe: 1 MiB (F_SETPIPE_SZ, Linux) lets sshd go on
# reading while zfs receive waits for a txg sync (about 5 % on a full send, measured). Best effort.
${growStdinPipe(paths.perl)}
`
    : '';
  return `#!/bin/sh
# esxi-zfs receive-guard: written by setupReplicationTrust (changes are overwritten).
# The forced command of every key authorized for the replication user. Its arguments are the
# datasets this host receives into; it runs "zfs receive -u [-s] DATASET" for one of them and
# nothing else. The command the client sent is compared as a whole string, never parsed.
${growPipe}cmd=\${SSH_ORIGINAL_COMMAND-}
for dataset in "$@"; do
	if [ "$cmd" = "zfs receive -u $dataset" ]; then
		exec ${run} receive -u "$dataset"
	fi
	if [ "$cmd" = "zfs receive -u -s $dataset" ]; then
		exec ${run} receive -u -s "$dataset"
	fi
done
printf 'esxi-zfs receive-guard: refused: %s\\n' "$cmd" >&2
exit 1
`;
}

/** sudoers arguments: `,` `:` `=` `\` must be escaped; datasets never hold the others. */
const sudoersWord = (w: string) => w.replace(/[\\,:=]/g, (c) => `\\${c}`);

/**
 * /etc/sudoers.d/esxi-zfs-USER: exact commands (no wildcard), one pair per allowed dataset.
 * Only the receive guard runs them, and only after its own exact comparison.
 */
export function sudoersText(user: string, zfs: string, datasets: readonly string[]): string {
  checkUser(user);
  const allowed = normalizeDatasets(datasets);
  if (allowed.length === 0) throw new TrustConfigError('sudoersText: no dataset to allow');
  if (!/^\/[A-Za-z0-9_./-]+$/.test(zfs)) throw new TrustConfigError(`not an absolute path: ${zfs}`);
  const commands = allowed.flatMap((d) => [`${zfs} receive -u ${sudoersWord(d)}`, `${zfs} receive -u -s ${sudoersWord(d)}`]);
  return [
    `# esxi-zfs: what the replication user ${user} may run as root, written by setupReplicationTrust`,
    '# (changes are overwritten). Exact commands only; its receive guard runs them.',
    `${user} ALL=(root) NOPASSWD: ${commands.join(', ')}`,
    '',
  ].join('\n');
}

/** The dataset that must exist (and carry the delegation) for `zfs receive` to create `dataset`. */
export function parentDataset(dataset: string): string {
  const i = dataset.lastIndexOf('/');
  return i === -1 ? dataset : dataset.slice(0, i);
}

/** The parents the allowed datasets are received under, de-duplicated, in order. */
export function receiveParents(datasets: readonly string[]): string[] {
  return [...new Set(normalizeDatasets(datasets).map(parentDataset))];
}

/** The user's permissions in the Local+Descendent sections of `zfs allow DATASET` output. */
export function parseZfsAllow(output: string, user: string): Set<string> {
  const granted = new Set<string>();
  let inSection = false;
  for (const line of output.split('\n')) {
    if (/^\S/.test(line) || /^-/.test(line)) {
      // "Local+Descendent permissions:" (OpenZFS, illumos) or "Local+Descendent permissions on (sp2/nas)" (snv_134).
      if (/permissions/i.test(line)) inSection = /^Local\+Descendent permissions/i.test(line.trim());
      continue;
    }
    const m = /^\s+user\s+(\S+)\s+(\S+)\s*$/.exec(line);
    if (inSection && m && m[1] === user) for (const p of m[2]!.split(',')) granted.add(p);
  }
  return granted;
}

/**
 * illumos/OpenZFS: delegate what `zfs receive -u` of a dataset under each parent needs to the
 * replication user (the runbook's "ZFS File System Management" profile, narrowed to receiving):
 * `zfs allow -u USER receive,create,mount,hold,release PARENT` where it is not granted yet.
 */
export function zfsAllowPlan(zfs: string, user: string, datasets: readonly string[], current: ReadonlyMap<string, string> = new Map()): PlannedCommand[] {
  checkUser(user);
  const perms = ZFS_ALLOW_PERMISSIONS.join(',');
  return receiveParents(datasets).flatMap((parent) => {
    const granted = parseZfsAllow(current.get(parent) ?? '', user);
    if (ZFS_ALLOW_PERMISSIONS.every((p) => granted.has(p))) return [];
    return [{ argv: [zfs, 'allow', '-u', user, perms, parent], change: `zfs allow -u ${user} ${perms} ${parent}` }];
  });
}

// ------------------------------------------------------------------------------------------------
// 4. authorized_keys on a target

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

const managedName = (comment: string | undefined): string | undefined =>
  comment?.startsWith(MANAGED_TAG) ? comment.slice(MANAGED_TAG.length) : undefined;

export interface MergeResult {
  content: string;
  changed: string[];
}

function splitLines(content: string): string[] {
  const lines = content.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const joinLines = (lines: string[]) => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);

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

// ------------------------------------------------------------------------------------------------
// 5. known_hosts on a source

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
