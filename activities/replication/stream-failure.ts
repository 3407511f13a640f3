/**
 * Why a stream failed, from how it ended: stopped (cancelled, stalled), refused by `zfs receive`
 * (no room, a modified target, a changed target), refused by the target's sshd or receive guard
 * (trust missing), or anything else (retried). Each as its failure type (core/failures.ts).
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Failure } from '../../core/failures';
import { classifyReceiveError } from '../../core/zfs/parse';
import { outOfSpaceFailure, type Room } from './space';
import type { StreamReport, StreamStop } from './stream';
import type { TransferInput } from './transfer';

/** How the stream ended: what it reported, what stopped it (if this attempt did), its stderr. */
export interface StreamEnd {
  report: StreamReport;
  stopped: StreamStop | undefined;
  stderr: string;
  room: Room;
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

function exitFailure(input: TransferInput, { report, stderr, room }: StreamEnd): Error {
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

function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}
