/**
 * The host-to-host stream as one script run on the source: `zfs send | COUNTER | ssh target zfs receive`.
 * Pure: built from the plan and both pools' capabilities, so the exact command is testable as data.
 *
 * The script's stdout is a report channel, one tagged line each, read live by the transfer activity:
 *   esxi-zfs-pid N            the script's pid; sshd made it a process-group leader, so
 *                             `kill -TERM -N` stops send, the counter and ssh together
 *   N (digits alone)          bytes so far (the byte counter's, every second and at the end)
 *   esxi-zfs-send-exit S      exit status of zfs send
 *   esxi-zfs-receive-exit R   exit status of the ssh client: zfs receive's, or 255 for ssh itself
 * stderr carries the messages of zfs and ssh.
 */
import { sh, shellCommand, type ShellScript } from '../ssh/quote';
import { counterStage, type ByteCounter } from './byte-counter';

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
  /** What counts the bytes on the source (see byte-counter.ts). */
  counter: ByteCounter;
  /** ssh -c: the ciphers, most preferred first. */
  ciphers: string[];
}

/** The command the forced command on the target accepts, exactly (see trust/receive-guard). */
export function receiveCommand(dataset: string, resumable: boolean): string[] {
  return ['zfs', 'receive', '-u', ...(resumable ? ['-s'] : []), dataset];
}

export function streamScript(plan: StreamPlan): ShellScript {
  const ssh = [
    'ssh', '-T',
    '-c', plan.ciphers.join(','),
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
  return sh`exec 3>&1 >&2
echo "esxi-zfs-pid $$" >&3
{ ${send}; echo "esxi-zfs-send-exit $?" >&3; } | ${counterStage(plan.counter)}${ssh}
r=$?
echo "esxi-zfs-receive-exit $r" >&3
exit $r
`;
}
