/**
 * The host-to-host stream as one script run on the source: `zfs send | COUNTER | ssh target zfs receive`.
 * Pure: built from the plan and both pools' capabilities, so the exact command is testable as data.
 *
 * The script's stdout is a report channel, one tagged line each, read live by the transfer activity:
 *   esxi-zfs-pid N            the script's pid; sshd made it a process-group leader, so
 *                             `kill -TERM -N` stops send, the counter and ssh together
 *   N (digits alone)          bytes so far (the byte counter's, every second and at the end)
 *   esxi-zfs-send-pid P       the pid of zfs send: zfs-fuse's `send -I/-R` holds the snapshots
 *                             it sends as `.send-P-N`, which a killed send leaves behind
 *   esxi-zfs-send-exit S      exit status of zfs send
 *   esxi-zfs-receive-exit R   exit status of the ssh client: zfs receive's, or 255 for ssh itself
 * stderr carries the messages of zfs and ssh.
 */
import { sh, shellCommand, type ShellScript } from '../../core/quote';
import { counterStage, type ByteCounter } from './byte-counter';

/** How the source reaches the target as the replication user (made by setupReplicationTrust). */
export interface TargetConnection {
  user: string;
  address: string;
  port: number;
  /** The replication user's home on the source: its key and known_hosts are in its .ssh. */
  home: string | ShellScript;
  /** ssh -c: the ciphers, most preferred first (none: ssh's own, for commands that start no session). */
  ciphers: string[];
}

/**
 * The shared connection (OpenSSH ControlMaster=auto): the first stream to a target opens it and
 * ControlPersist keeps it in the background; the streams that follow within a minute (the other
 * datasets of a schedule tick) skip the handshake. When several start at once the losers find
 * the socket taken and use a connection of their own, as they do when the target refuses one more
 * session on it (sshd's MaxSessions). Its control socket is in the home of the user running the
 * stream (root, or the admin user), never in the replication user's home, whose owner could swap
 * the socket and be handed the stream. %C is ssh's hash of local host, target, port and user.
 */
const CONTROL_PATH = '%d/.ssh/esxi-zfs-%C';
/** How long an idle shared connection stays open. */
const CONTROL_PERSIST = '60s';

export interface StreamPlan {
  /** `zfs send` arguments after the flags: `[-I|-i, @base,] dataset@snapshot`, or `-t token`. */
  sendArgs: string[];
  flags: string[];
  zfs: string;
  connection: TargetConnection;
  target: {
    dataset: string;
    /** `zfs receive -s` where the target keeps resume state. */
    resumable: boolean;
  };
  /** What counts the bytes on the source (see byte-counter.ts). */
  counter: ByteCounter;
}

/** The command the forced command on the target accepts, exactly (see trust/receive-guard). */
export function receiveCommand(dataset: string, resumable: boolean): string[] {
  return ['zfs', 'receive', '-u', ...(resumable ? ['-s'] : []), dataset];
}

/** Prints the replication user's home on the source (its key and known_hosts are in its .ssh). */
export function homeLookup(user: string): ShellScript {
  return sh`getent passwd ${user} | cut -d: -f6`;
}

/** ssh to the target as the replication user, up to (not including) the shared-connection options. */
function sshArgs(connection: TargetConnection): (string | ShellScript)[] {
  const { home } = connection;
  return [
    'ssh', '-T',
    ...(connection.ciphers.length > 0 ? ['-c', connection.ciphers.join(',')] : []),
    '-i', sh`${home}/.ssh/id_ed25519`,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', sh`UserKnownHostsFile=${home}/.ssh/known_hosts`,
    '-o', 'ConnectTimeout=30',
    '-o', 'ServerAliveInterval=10',
    '-o', 'ServerAliveCountMax=3',
    '-o', `ControlPath=${CONTROL_PATH}`,
    '-p', String(connection.port),
  ];
}

/** Through the shared connection when it is open (no handshake), else opening it. */
const SHARED = ['-o', 'ControlMaster=auto', '-o', `ControlPersist=${CONTROL_PERSIST}`];

const destination = (connection: TargetConnection) => `${connection.user}@${connection.address}`;

/** Sets $ctl to the control socket's path (ssh -G expands %d and %C; nothing is connected). */
function controlPathOf(connection: TargetConnection): ShellScript {
  return sh`ctl=$(${sshArgs(connection)} -G ${destination(connection)} 2>/dev/null | sed -n 's/^controlpath //p')`;
}

/**
 * Run on the source at the start of a replication run, returns at once: the shared connection is
 * opened in the background (an opener, its pid in "$ctl.opening" while it runs) so that the ~0.2 s
 * handshake overlaps the snapshot, the listings and the holds; the stream waits for it (see
 * streamScript). The opener asks for no command: the receive guard refuses the session and it
 * ends, while ControlPersist keeps the authenticated master. A socket already there is taken as
 * open: were it stale, the stream's ssh removes it and connects by itself. Prints `open`,
 * `opening` (another run is opening it), `started`, or `no USER` (no replication user here).
 */
export function openerScript(target: Omit<TargetConnection, 'home'>): ShellScript {
  const connection = { ...target, home: sh`"$home"` };
  const ssh = sshArgs(connection);
  const dest = destination(connection);
  return sh`home=$(${homeLookup(target.user)})
case $home in /*) ;; *) echo no ${target.user}; exit 0;; esac
${controlPathOf(connection)}
[ -n "$ctl" ] || { echo direct; exit 0; }
[ -S "$ctl" ] && { echo open; exit 0; }
if [ -f "$ctl.opening" ] && read -r opener < "$ctl.opening" && kill -0 "$opener" 2>/dev/null; then echo opening; exit 0; fi
( ${ssh} ${SHARED} ${dest}; rm -f "$ctl.opening" ) </dev/null >/dev/null 2>&1 &
echo $! > "$ctl.opening"
echo started
`;
}

/**
 * Run on a source after a target's authorization changed: a master keeps the forced command it
 * logged in with, so it is stopped (`ssh -O stop`: it takes no new session and removes its socket; a
 * stream running through it finishes, then it exits) and the next stream logs in anew. Prints
 * `stopped`, `removed` (a socket no master answered) or `none`.
 */
export function closerScript(target: Omit<TargetConnection, 'home'>): ShellScript {
  const connection = { ...target, home: sh`"$home"` };
  return sh`home=$(${homeLookup(target.user)})
case $home in /*) ;; *) echo none; exit 0;; esac
${controlPathOf(connection)}
{ [ -n "$ctl" ] && [ -S "$ctl" ]; } || { echo none; exit 0; }
if ${sshArgs(connection)} -O stop ${destination(connection)} >/dev/null 2>&1; then echo stopped; else rm -f "$ctl"; echo removed; fi
`;
}

export function streamScript(plan: StreamPlan): ShellScript {
  const { connection } = plan;
  const ssh = [
    ...sshArgs(connection),
    ...SHARED,
    destination(connection),
    // One word for the local shell; the remote side reads it as SSH_ORIGINAL_COMMAND.
    shellCommand(receiveCommand(plan.target.dataset, plan.target.resumable)),
  ];
  const send = [plan.zfs, 'send', ...plan.flags, ...plan.sendArgs];
  // While this run's opener is still authenticating, wait for its socket (at most its own
  // ConnectTimeout) rather than start a second handshake; without an opener, straight on.
  return sh`exec 3>&1 >&2
echo "esxi-zfs-pid $$" >&3
${controlPathOf(connection)}
n=0
while [ -n "$ctl" ] && [ ! -S "$ctl" ] && [ $n -lt 3000 ] && [ -f "$ctl.opening" ] && read -r opener < "$ctl.opening" && kill -0 "$opener" 2>/dev/null; do
  sleep 0.01 2>/dev/null || sleep 1
  n=$((n + 1))
done
{ ${send} & echo "esxi-zfs-send-pid $!" >&3; wait $!; echo "esxi-zfs-send-exit $?" >&3; } | ${counterStage(plan.counter)}${ssh}
r=$?
echo "esxi-zfs-receive-exit $r" >&3
exit $r
`;
}
