/**
 * Every failure type a runbook raises, defined once: activities throw them, retry policies list the
 * non-retryable ones, status and the CLI read them. One failure has one type and one remedy.
 */
export const Failure = {
  // Replication: the target or source is not as the plan needs it. Retrying cannot fix these.
  SourceMissing: 'SourceMissing',
  SourceHasNoSnapshot: 'SourceHasNoSnapshot',
  PoolMissing: 'PoolMissing',
  NoCommonSnapshot: 'NoCommonSnapshot',
  TargetDiverged: 'TargetDiverged',
  /** Written to since the common snapshot: seen by planning, or by `zfs receive` refusing the stream. */
  TargetModified: 'TargetModified',
  /** The target changed between planning and the receive in another way. */
  ReceiveRefused: 'ReceiveRefused',
  RollbackBaseChanged: 'RollbackBaseChanged',
  PruneRefused: 'PruneRefused',
  /** The target pool has no room for the stream: refused before sending, or by `zfs receive`. */
  TargetPoolFull: 'TargetPoolFull',
  /** The target's receive guard or authorized key does not let the source in: run trust. */
  TrustMissing: 'TrustMissing',
  TrustConfig: 'TrustConfig',
  ReplicaMissing: 'ReplicaMissing',
  CloneConflict: 'CloneConflict',
  CloneOutdated: 'CloneOutdated',
  // Retryable: the stream failed, stalled, or ended without the snapshot arriving.
  StreamFailed: 'StreamFailed',
  StreamStalled: 'StreamStalled',
  NotReceived: 'NotReceived',
} as const;
export type FailureType = (typeof Failure)[keyof typeof Failure];

/** The types a retry policy must not retry, per runbook step group. */
export const NON_RETRYABLE = {
  replicationSteps: [Failure.PoolMissing, Failure.SourceMissing, Failure.RollbackBaseChanged, Failure.PruneRefused],
  transfer: [Failure.TargetModified, Failure.ReceiveRefused, Failure.TrustMissing, Failure.TargetPoolFull],
  trust: [Failure.TrustConfig],
  clone: [Failure.ReplicaMissing, Failure.CloneConflict, Failure.CloneOutdated],
} as const satisfies Record<string, readonly FailureType[]>;
