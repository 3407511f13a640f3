/**
 * The host-to-host stream as one script run on the source: `zfs send | pv | ssh target zfs receive`.
 * Pure: built from the plan and both pools' capabilities, so the exact command is testable as data.
 *
 * The script's stdout is a report channel, one tagged line each, read live by the transfer activity:
 *   esxi-zfs-pid N            the script's pid; sshd made it a process-group leader, so
 *                             `kill -TERM -N` stops send, pv and the ssh client together
 *   N (digits alone)          bytes so far (pv -n -b, every second)
 *   esxi-zfs-send-exit S      exit status of zfs send
 *   esxi-zfs-receive-exit R   exit status of the ssh client: zfs receive's, or 255 for ssh itself
 * stderr carries the messages of zfs and ssh.
 */
import { sh, shellCommand, type ShellScript } from '../ssh/quote';
import type { Capabilities } from '../zfs/capabilities';
import type { SendOption } from '../../inventory/schema';

export interface SendFlagsInput {
  options: SendOption[];
  recursive: boolean;
  /** Capabilities both pools share (send-side features need the receiver too). */
  common: Capabilities;
  /** Numbered pool versions (legacy): dedup streams exist from pool version 21. */
  sourcePoolVersion: number | 'feature-flags';
}

/** Flags for `zfs send`, and a warning for each requested option this ZFS cannot honour. */
export function sendFlags(input: SendFlagsInput): { flags: string[]; warnings: string[] } {
  const flags: string[] = [];
  const warnings: string[] = [];
  const want = new Set(input.options);
  if (input.recursive) flags.push('-R');
  if (want.has('properties') && !input.recursive) flags.push('-p'); // -R already carries properties
  if (want.has('dedup')) {
    // Deduplicated streams: pool version 21+ (snv_128); OpenZFS 2.2 dropped them, so feature-flag
    // pools get a plain stream rather than an error.
    if (typeof input.sourcePoolVersion === 'number' && input.sourcePoolVersion >= 21) flags.push('-D');
    else warnings.push('dedup: this ZFS does not offer deduplicated send streams (-D); sent without it');
  }
  const optional: [SendOption, keyof Capabilities, string][] = [
    ['compressed', 'compressedSend', '-c'],
    ['largeBlocks', 'largeBlocks', '-L'],
    ['embedded', 'embeddedData', '-e'],
    ['raw', 'rawSend', '-w'],
  ];
  for (const [option, capability, flag] of optional) {
    if (!want.has(option)) continue;
    if (input.common[capability]) flags.push(flag);
    else warnings.push(`${option}: not supported by both pools (${flag}); sent without it`);
  }
  return { flags, warnings };
}

export interface StreamPlan {
  /** `zfs send` arguments after the flags: `[-I|-i, @base,] dataset@snapshot`, or `-t token`. */
  sendArgs: string[];
  flags: string[];
  zfs: string;
  target: {
    user: string;
    address: string;
    port: number;
    dataset: string;
    /** `zfs receive -s` where the target keeps resume state. */
    resumable: boolean;
  };
  /** The replication user's key and known_hosts on the source (made by setupReplicationTrust). */
  identityFile: string;
  knownHostsFile: string;
  /** Whether the source has pv to count bytes. */
  pv: boolean;
}

/** The command the forced command on the target accepts, exactly (see trust/receive-guard). */
export function receiveCommand(dataset: string, resumable: boolean): string[] {
  return ['zfs', 'receive', '-u', ...(resumable ? ['-s'] : []), dataset];
}

export function streamScript(plan: StreamPlan): ShellScript {
  const ssh = [
    'ssh', '-T',
    '-i', plan.identityFile,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${plan.knownHostsFile}`,
    '-o', 'ServerAliveInterval=10',
    '-o', 'ServerAliveCountMax=3',
    '-p', String(plan.target.port),
    `${plan.target.user}@${plan.target.address}`,
    // One word for the local shell; the remote side reads it as SSH_ORIGINAL_COMMAND.
    shellCommand(receiveCommand(plan.target.dataset, plan.target.resumable)),
  ];
  const send = [plan.zfs, 'send', ...plan.flags, ...plan.sendArgs];
  // pv's numbers go to fd 3 (the report channel); its stdout is the stream.
  const counter = plan.pv ? sh`${['pv', '-f', '-n', '-b', '-i', '1']} 2>&3 | ` : sh``;
  return sh`exec 3>&1 >&2
echo "esxi-zfs-pid $$" >&3
{ ${send}; echo "esxi-zfs-send-exit $?" >&3; } | ${counter}${ssh}
r=$?
echo "esxi-zfs-receive-exit $r" >&3
exit $r
`;
}
