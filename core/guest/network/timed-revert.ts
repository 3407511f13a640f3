/**
 * The one mechanism that protects a change which may cut the worker's connection: a detached shell
 * that waits, then undoes the change unless a flag file has been removed by then.
 *
 * The flag is claimed atomically by whoever acts first: the waiting shell renames it before it
 * reverts, `cancel` removes it; the loser's rename or rm fails. So `cancel` exiting 0 means the
 * revert will not run, and a non-zero exit means it ran (or is running).
 */
import { sh, type ShellScript } from '../../quote';
import type { TimedRevert } from './plan';

/** Seconds a guarded change waits for its cancel: room for a reconnect over a slow link, short enough to wait for. */
export const REVERT_SECONDS = 120;

/** Where flags live: a tmpfs on Linux (/var/run is /run) and on illumos, so a reboot drops them. */
export const revertFlag = (name: string): string => `/var/run/esxi-zfs-${name}.revert`;

// $1: the body, $2: the flag. The body sees the flag as its $1.
const LAUNCH = 'touch "$2" || exit 1\nnohup sh -c "$1" sh "$2" >/dev/null 2>&1 </dev/null &';

/**
 * `apply` runs first, detached too (a change that drops the session still completes); `revert`
 * runs after `seconds` unless cancelled. Each step of either runs even when the one before failed.
 */
export function timedRevert(o: { flag: string; seconds: number; apply?: ShellScript[]; revert: ShellScript[]; what: string }): TimedRevert {
  if (!Number.isInteger(o.seconds) || o.seconds < 1) throw new Error(`timed revert: seconds must be a positive integer, not ${o.seconds}`);
  const steps = (list: ShellScript[]) => list.map((s) => `${s.text}\n`).join('');
  const body =
    steps(o.apply ?? []) +
    sh`i=0
while [ "$i" -lt ${o.seconds} ]; do [ -f "$1" ] || exit 0; sleep 1; i=$(expr "$i" + 1); done
mv -f "$1" "$1.fired" 2>/dev/null || exit 0
`.text +
    steps(o.revert) +
    'rm -f "$1.fired"\n';
  return {
    start: {
      argv: ['sh', '-c', LAUNCH, 'sh', body, o.flag],
      change: `${o.what}: ${o.apply ? 'started detached, ' : ''}undone after ${o.seconds} s unless cancelled (${o.flag})`,
    },
    cancel: { argv: ['rm', o.flag], change: `cancelled the timed revert of ${o.what}` },
    seconds: o.seconds,
  };
}

/** A script step that makes `path` hold `content` again, or removes it when it did not exist. */
export const restoreFileStep = (path: string, content: string | undefined): ShellScript =>
  content === undefined ? sh`rm -f ${path}` : sh`printf '%s' ${content} >${path}`;
