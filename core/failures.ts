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
  /** A host presented an SSH host key other than the pinned one (worker to host, or source to target). */
  HostKeyMismatch: 'HostKeyMismatch',
  ReplicaMissing: 'ReplicaMissing',
  /** A failover fenced the replica (esxi-zfs:fenced): no replication writes it until failback. */
  ReplicaFenced: 'ReplicaFenced',
  CloneConflict: 'CloneConflict',
  CloneOutdated: 'CloneOutdated',
  // configureStorage: the guest or the inventory is not as the runbook needs it. A person decides.
  /** The guest runs another OS than the inventory's profile. */
  GuestOsMismatch: 'GuestOsMismatch',
  /** The network the inventory asks for cannot be planned on this guest (core/guest/network/errors.ts names each case). */
  NetworkConfig: 'NetworkConfig',
  /** A disk selector matches none or several disks, or a disk is in use or labelled (without force). */
  DiskSelection: 'DiskSelection',
  /** The pool exists with another data layout: reported, never modified. */
  PoolLayoutDiffers: 'PoolLayoutDiffers',
  /** A share names a client that does not resolve on the guest. */
  UnresolvedClient: 'UnresolvedClient',
  /** The new management address did not answer with the pinned host key: reverted. */
  ManagementSwitchFailed: 'ManagementSwitchFailed',
  // enablePassthrough: the host or the inventory is not as the runbook needs it.
  /** The selector names no device, several, or one that is not passthrough capable. */
  PassthroughDevice: 'PassthroughDevice',
  /** Running VMs on a host whose policy is to refuse (they are listed). */
  VmsRunning: 'VmsRunning',
  /** Still not active after the reboot and one more: the BIOS (VT-d/IOMMU) or the device. */
  PassthroughNotActive: 'PassthroughNotActive',
  // buildStorageVm: the host, the VM or the inventory is not as the runbook needs it.
  /** An existing VM of the storage VM's name differs from the inventory (the differences listed): never changed. */
  StorageVmDiffers: 'StorageVmDiffers',
  /** What the VM needs is not on the host: a port group, the datastore, the device active (run passthrough first). */
  StorageVmPrerequisite: 'StorageVmPrerequisite',
  /** The host refused to power the VM on (its reason: passthrough, memory reservation). */
  StorageVmPowerOn: 'StorageVmPowerOn',
  /** The guest did not show its management address or answer SSH in the inventory's guestTimeout. */
  GuestNotReady: 'GuestNotReady',
  // registerDatastore
  /** A datastore name taken by another export, a port group on another vSwitch, a VMkernel NIC with another address. */
  DatastoreConflict: 'DatastoreConflict',
  /** Some hosts could not mount the shares (the others did): the run's details list each. */
  DatastoreHostsFailed: 'DatastoreHostsFailed',
  // recoverDatastores
  /** The storage VM's NFS server did not list its exports within the timeout: nothing was refreshed or remounted. */
  ExportsNotAnswering: 'ExportsNotAnswering',
  // provisionHost, provisionCluster
  /** A step of a host's provisioning failed (the later ones did not run): the run's details list each step. */
  ProvisionFailed: 'ProvisionFailed',
  // vSphere: the endpoint refuses us. A person fixes the inventory or the worker's environment.
  /** The password variable the inventory names is not set in the worker's environment. */
  VsphereCredentials: 'VsphereCredentials',
  /** Wrong user or password (InvalidLogin). */
  VsphereLogin: 'VsphereLogin',
  /** The server's certificate is not the pinned one. */
  VsphereThumbprint: 'VsphereThumbprint',
  // failover / failback: a precondition an operator must settle.
  /** The source still answers SSH: failing over would split the brain (--force overrides). */
  SourceAnswers: 'SourceAnswers',
  /** Failback needs the original storage VM back. */
  OriginalDown: 'OriginalDown',
  /** The original holds changes after the common snapshot: named, kept until the operator consents. */
  FailbackNeedsConsent: 'FailbackNeedsConsent',
  /** VMs are registered on the recovered datastore: the cut-over waits until they are moved. */
  FailbackVmsOnRecovered: 'FailbackVmsOnRecovered',
  /** The recovered copy, the original or the received copy is not as failback left or expects it. */
  FailbackState: 'FailbackState',
  // Retryable: the stream failed, stalled, or ended without the snapshot arriving.
  StreamFailed: 'StreamFailed',
  StreamStalled: 'StreamStalled',
  NotReceived: 'NotReceived',
} as const;
export type FailureType = (typeof Failure)[keyof typeof Failure];

/** The types a retry policy must not retry, per runbook step group. */
export const NON_RETRYABLE = {
  replicationSteps: [Failure.PoolMissing, Failure.SourceMissing, Failure.RollbackBaseChanged, Failure.PruneRefused],
  transfer: [Failure.TargetModified, Failure.ReceiveRefused, Failure.TrustMissing, Failure.HostKeyMismatch, Failure.TargetPoolFull],
  trust: [Failure.TrustConfig],
  clone: [Failure.ReplicaMissing, Failure.CloneConflict, Failure.CloneOutdated],
  configure: [
    Failure.GuestOsMismatch, Failure.NetworkConfig, Failure.DiskSelection, Failure.PoolLayoutDiffers, Failure.UnresolvedClient,
    Failure.ManagementSwitchFailed,
  ],
  passthrough: [Failure.PassthroughDevice, Failure.VmsRunning, Failure.VsphereCredentials, Failure.VsphereLogin, Failure.VsphereThumbprint],
  storageVm: [
    Failure.PassthroughDevice, Failure.PassthroughNotActive, Failure.StorageVmDiffers, Failure.StorageVmPrerequisite, Failure.StorageVmPowerOn,
    Failure.GuestNotReady, Failure.VsphereCredentials, Failure.VsphereLogin, Failure.VsphereThumbprint,
  ],
  datastore: [Failure.DatastoreConflict, Failure.VsphereCredentials, Failure.VsphereLogin, Failure.VsphereThumbprint],
  recover: [Failure.VsphereCredentials, Failure.VsphereLogin, Failure.VsphereThumbprint],
  failover: [
    Failure.ReplicaMissing, Failure.CloneConflict, Failure.CloneOutdated, Failure.PoolMissing, Failure.FailbackState, Failure.FailbackVmsOnRecovered,
    Failure.DatastoreConflict, Failure.VsphereCredentials, Failure.VsphereLogin, Failure.VsphereThumbprint, Failure.RollbackBaseChanged,
  ],
} as const satisfies Record<string, readonly FailureType[]>;
