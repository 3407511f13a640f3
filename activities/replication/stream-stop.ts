/**
 * Stopping a stream's processes on the source: the stream this attempt stops (stalled or
 * cancelled), the one a dead attempt left running, and the holds a killed `zfs send` left.
 */
import { sh } from '../../core/quote';
import { guestProfile } from '../../core/guest/profile';
import type { Transport } from '../transport';
import type { TransferInput } from './transfer';

/** How long a stopped stream has to end after TERM before it is killed. */
const STOP_GRACE_MS = 10_000;

/** Stops the stream's process group on the source, if it said its pid; never throws. */
export async function stopStream(transport: Transport, input: TransferInput, pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  await transport.stopProcessGroup(input.source.host, pid, { graceMs: STOP_GRACE_MS }).catch(() => undefined);
}

/** What a dead attempt left on the source (the pids in its last heartbeat): stopped, its holds released. */
export async function stopLeftovers(transport: Transport, input: TransferInput, leftover: { sourcePid?: number; sendPid?: number } | undefined): Promise<void> {
  if (leftover?.sourcePid !== undefined) await stopLeftoverStream(transport, input, leftover.sourcePid);
  if (leftover?.sendPid !== undefined) await releaseSendHolds(transport, input, leftover.sendPid);
}

/**
 * Stops the stream an earlier attempt started and could not stop (its worker died), once sure
 * `pid` is still that stream's process group (its leader's command line starts with the stream
 * script), and waits for it to end: a send and receive still running would collide with ours.
 */
async function stopLeftoverStream(transport: Transport, input: TransferInput, pid: number): Promise<void> {
  await transport.stopProcessGroup(input.source.host, pid, { graceMs: STOP_GRACE_MS, leaderMatching: 'esxi-zfs-pid' });
}

/**
 * Releases the holds a killed `zfs send` left: zfs-fuse's `send -I/-R` holds every snapshot it
 * sends as `.send-PID-N` (N from 0, one per filesystem) and only the send itself releases them,
 * so a send killed midway leaves its snapshots undestroyable ("dataset is busy") until the pool
 * is imported again. Only once that pid has ended; a pid in use again is left alone (its tags
 * could be another send's).
 */
export async function releaseSendHolds(transport: Transport, input: TransferInput, sendPid: number): Promise<void> {
  const zfs = guestProfile(input.source.host.os).zfs;
  const pid = String(sendPid);
  const tag = `.send-${pid}-`;
  await transport.runScript(input.source.host, sh`n=0
while kill -0 ${pid} 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
kill -0 ${pid} 2>/dev/null && exit 0
filesystems=$(${zfs} list -H -o name -t filesystem,volume -r ${input.source.dataset} | wc -l)
${zfs} list -H -o name -t snapshot -r ${input.source.dataset} | while IFS= read -r snapshot; do
  i=0
  while [ $i -lt "$filesystems" ]; do ${zfs} release ${tag}"$i" "$snapshot" 2>/dev/null; i=$((i + 1)); done
done
true`, { timeoutMs: 120_000 }).catch(() => undefined);
}
