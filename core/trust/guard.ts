/**
 * The receive guard: the forced command of every key authorized for the replication user, running
 * exactly `zfs receive -u [-s] DATASET` for the datasets a host receives into, and the privilege it
 * needs (an exact-argument sudo rule, or `zfs allow` delegation).
 */
import type { PlannedCommand } from '../guest/profile';
import type { OsProfile } from '../hosts';
import { quote } from '../quote';
import { TrustConfigError, checkDataset, checkUser } from './checks';
import { ZFS_ALLOW_PERMISSIONS } from './shared';

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
