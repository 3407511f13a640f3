/**
 * Stopping a remote command: channel signals, and the command's process group. Every command runs
 * behind a prefix that reports its shell's process group (PGID_PREFIX), so it can be stopped whole:
 * OpenSSH ignores channel signals for root sessions.
 */
import type { ClientChannel } from 'ssh2';
import { type ShellScript, sh } from '../../core/quote';
import type { ChannelLease } from './connection';

// ------------------------------------------------------------------------------------------------
// Stopping a remote command: channel signals and process groups

type ChannelInternals = {
  outgoing?: { id?: number; state?: string };
  _client?: { _protocol?: { signal?: (id: number, signal: string) => void } };
};

/**
 * Send a signal request on a session channel. ssh2's `channel.signal()` silently does nothing once
 * the channel's stdin has been ended (outgoing state 'eof'), yet SSH allows channel requests until
 * close — and every exec ends stdin early. So fall back to ssh2's protocol writer in that state.
 */
export function signalChannel(channel: ClientChannel, sig: 'TERM' | 'KILL' | 'INT' | 'HUP'): boolean {
  const c = channel as unknown as ChannelInternals;
  const state = c.outgoing?.state;
  try {
    if (state === 'open' && channel.writable) {
      channel.signal(sig);
      return true;
    }
    const proto = c._client?._protocol;
    if ((state === 'open' || state === 'eof') && proto && typeof proto.signal === 'function' && typeof c.outgoing?.id === 'number') {
      proto.signal(c.outgoing.id, sig);
      return true;
    }
  } catch {
    /* connection gone */
  }
  return false;
}

/**
 * Every command is prefixed with a line that prints the remote shell's PID to stderr (the line is
 * stripped from the stderr we return). sshd makes that shell a session and process-group leader, so
 * on timeout/abort `kill -TERM -- -PGID` over a second channel stops the whole command (pipelines
 * included). Needed because OpenSSH refuses channel `signal` requests for root sessions
 * ("session signalling requires privilege separation": root sessions are not privilege-separated)
 * and older servers (SunSSH) ignore them. The channel signal is still sent too.
 */
/** Between SIGTERM and SIGKILL + channel close when a call is stopped. */
export const KILL_GRACE_MS = 2000;

export const PGID_MARKER = 'esxi-zfs-pgid:';
export const PGID_PREFIX = `printf '${PGID_MARKER}%s\\n' "$$" >&2\n`;

/**
 * The one way a remote process group is stopped: TERM, then CONT (a stopped process would never see
 * the TERM: shells do the same for stopped jobs), up to `graceMs` for it to end, then KILL. With
 * `leaderMatching`, only while `pgid` still leads a group whose leader's command line contains it
 * (a pid remembered from an earlier attempt may belong to another process by now).
 */
export function stopGroupScript(pgid: number, opts: { graceMs?: number; leaderMatching?: string } = {}): ShellScript {
  const group = `-${pgid}`;
  const pid = String(pgid);
  const guard = opts.leaderMatching
    ? sh`[ "$(ps -o pgid= -p ${pid} | tr -d ' ')" = ${pid} ] && ps -o args= -p ${pid} | grep -qF -- ${opts.leaderMatching} || exit 0
`
    : sh``;
  return sh`${guard}kill -TERM -- ${group} 2>/dev/null; kill -CONT -- ${group} 2>/dev/null
n=0
while kill -0 -- ${group} 2>/dev/null && [ $n -lt ${String(Math.ceil((opts.graceMs ?? 0) / 100))} ]; do sleep 0.1; n=$((n + 1)); done
kill -KILL -- ${group} 2>/dev/null; true`;
}


/** The engine's stop, on the lease of the command it stops: TERM now (KILL after KILL_GRACE_MS), or KILL now. */
export function killRemoteGroup(lease: ChannelLease, pgid: number, sig: 'TERM' | 'KILL'): void {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) return; // never `kill -- -1`
  try {
    lease.client.exec(stopGroupScript(pgid, { graceMs: sig === 'KILL' ? 0 : KILL_GRACE_MS }).text, (err, channel) => {
      if (err || !channel) return; // best effort: closing the command's own channel still ends the session
      channel.resume();
      channel.stderr.resume();
      channel.end();
    });
  } catch {
    /* connection gone */
  }
}
