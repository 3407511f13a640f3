/**
 * Why a stream failed, from how it ended: stopped (cancelled, stalled), refused by `zfs receive`
 * (no room, a modified target, a changed target), refused by the target's sshd or receive guard
 * (trust missing), or anything else (retried). Each as its failure type (core/failures.ts).
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Failure } from '../../core/failures';
import { classifyReceiveError } from '../../core/zfs/parse';
import { parseHostKey } from '../ssh';
import { outOfSpaceFailure, type Room } from './space';
import type { StreamReport, StreamStop } from './stream';
import type { TransferInput } from './transfer';

/** How the stream ended: what it reported, what stopped it (if this attempt did), its stderr. */
export interface StreamEnd {
  report: StreamReport;
  stopped: StreamStop | undefined;
  stderr: string;
  room: Room;
  /** The fingerprint the source's replication user pins for the target, read when ssh said the key changed. */
  pinned?: string;
}

/** The fingerprint ssh says the target offered when it refused a changed host key; undefined otherwise. */
export function changedHostKey(stderr: string): string | undefined {
  if (!/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) return undefined;
  return /key sent by the remote host is\s+(SHA256:[A-Za-z0-9+/]+)/.exec(stderr)?.[1] ?? 'a key ssh did not name';
}

/** The failure the stream's end means; undefined when both ends succeeded. */
export function streamFailure(input: TransferInput, end: StreamEnd): Error | undefined {
  const { report, stopped } = end;
  if (stopped === 'cancelled') return new CancelledFailure('replication cancelled: the stream was stopped on both ends');
  if (stopped === 'stalled') {
    return ApplicationFailure.retryable(
      `stream stalled: no bytes for ${Math.round(input.stallTimeoutMs / 1000)} s after ${report.bytes} bytes; stopped on ${input.source.host.name} (will retry)`,
      Failure.StreamStalled,
    );
  }
  if (report.sendExit !== 0 || report.receiveExit !== 0) return exitFailure(input, end);
  return undefined;
}

function exitFailure(input: TransferInput, end: StreamEnd): Error {
  const { report, stderr, room } = end;
  const where = `${input.source.host.name}:${input.source.dataset} -> ${input.target.host.name}:${input.target.dataset}`;
  const refusal = classifyReceiveError(stderr);
  if (refusal === 'out-of-space') return outOfSpaceFailure(input.source, input.target, room, report.bytes, input.resumable);
  if (refusal === 'target-modified') {
    // The workflow explains it with the snapshots it planned with (describeConflict): one type, one remedy.
    return ApplicationFailure.nonRetryable(`${where}: zfs receive refused the stream: the target was written to since the common snapshot.\n${tail(stderr)}`, Failure.TargetModified);
  }
  if (refusal) {
    return ApplicationFailure.nonRetryable(`${where}: zfs receive refused the stream (${refusal}); the target changed since this run read it. Nothing was destroyed.\n${tail(stderr)}`, Failure.ReceiveRefused);
  }
  const offered = changedHostKey(stderr);
  if (report.receiveExit === 255 && offered) return hostKeyChanged(input, where, offered, end.pinned);
  if (report.receiveExit === 255 && /Host key verification failed|Permission denied|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) {
    return ApplicationFailure.nonRetryable(
      `${where}: the source cannot log in to the target as ${input.user}: run setupReplicationTrust (esxi-zfs trust FILE).\n${tail(stderr)}`,
      Failure.TrustMissing,
    );
  }
  if (/refused: /.test(stderr) && /esxi-zfs/.test(stderr)) {
    return ApplicationFailure.nonRetryable(`${where}: the target's receive guard refused the command: run setupReplicationTrust so it allows ${input.target.dataset}.\n${tail(stderr)}`, Failure.TrustMissing);
  }
  return ApplicationFailure.retryable(
    `${where}: stream failed (send exit ${report.sendExit ?? '?'}, receive exit ${report.receiveExit ?? '?'}) after ${report.bytes} bytes\n${tail(stderr)}`,
    Failure.StreamFailed,
  );
}

/**
 * The source's ssh refused the target: its host key is not the one the replication user pins. Never
 * retried: a retry cannot change the key, and re-pinning blindly is what a man in the middle wants.
 */
function hostKeyChanged(input: TransferInput, where: string, offered: string, pinned: string | undefined): Error {
  const inventory = parseHostKey(input.target.host.hostKey).fingerprint;
  const remedy = inventory === offered
    ? `The inventory already pins the offered key: setupReplicationTrust has not run since; run it (esxi-zfs trust FILE) to pin it on ${input.source.host.name}.`
    : `The inventory pins ${inventory}. If ${input.target.host.name} was reinstalled, verify its new key out of band (ssh-keygen -lf on the host), update its hostKey and run setupReplicationTrust; otherwise treat it as a possible man in the middle.`;
  return ApplicationFailure.nonRetryable(
    `${where}: the target's SSH host key changed: ${input.source.host.name} pins ${pinned ?? 'an unreadable key'} for ${input.target.host.storageAddress} ` +
      `(${input.user}'s known_hosts), the target offered ${offered}. ssh refused it; nothing was sent. ${remedy}`,
    Failure.HostKeyMismatch,
  );
}

function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}
