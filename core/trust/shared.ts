/**
 * The replication-trust runbook's contract: what setupReplicationTrust is given and reports, its
 * steps, and the fixed names of what it manages on a host.
 *
 * Replication trust as data (this folder): the runbook's "zfsadm user, key pair, authorized keys"
 * steps, made least-privilege. Pure (no I/O), so every command and every file this product writes is
 * checked by golden tests, including the illumos plan that cannot run on a Linux machine.
 * On every storage VM:
 *   - the replication user (runbook: `useradd ... -P 'ZFS File System Management' zfsadm`), able
 *     to log in with a key only (user.ts);
 *   - its key pair, generated on the host (the private key never leaves it);
 *   - the receive guard: the forced command of every key authorized for that user. It runs exactly
 *     `zfs receive -u [-s] DATASET` for the datasets this host receives into, nothing else, with the
 *     privilege it needs: `zfs allow` delegation where the host's zfs delegates, else an
 *     exact-argument sudo rule (guard.ts).
 * Then every target authorizes its sources' keys (with the guard, `from=` and no forwarding:
 * authorized-keys.ts) and every source pins its targets' host keys from the inventory, never from
 * ssh-keyscan (known-hosts.ts). Who does what for whom: ring.ts.
 */
import type { StorageHostRef } from '../hosts';

export interface TrustEdge {
  source: StorageHostRef;
  target: StorageHostRef;
  /** The dataset on the target that the source's stream is received into. */
  targetDataset: string;
}

export interface SetupReplicationTrustInput {
  hosts: StorageHostRef[];
  /** The replication user on every storage VM (default zfsadm). */
  user?: string;
  /** The replication user may be an account of the OS (uid below 1000): the inventory's explicit choice. */
  allowSystemUser?: boolean;
  edges: TrustEdge[];
}

/** What one activity changed on one host: empty `changed` means it found everything in place. */
export interface TrustChange {
  changed: string[];
  warnings: string[];
}

export interface SourceKey {
  name: string;
  storageAddress: string;
  /** `ssh-ed25519 AAAA... comment`: the public half only. */
  publicKey: string;
  datasets: string[];
}

export interface PinnedTarget {
  name: string;
  storageAddress: string;
  port?: number;
  /** The inventory's pinned host key, `ssh-ed25519 AAAA...`. */
  hostKey: string;
}

export const GUARD_PATH = '/usr/local/libexec/esxi-zfs/receive-guard';
/** The tag at the end of every line this product manages in authorized_keys and known_hosts. */
export const MANAGED_TAG = 'esxi-zfs:';
export const KEY_FILE = '.ssh/id_ed25519';
export const AUTHORIZED_KEYS_FILE = '.ssh/authorized_keys';
export const KNOWN_HOSTS_FILE = '.ssh/known_hosts';
/** The `zfs allow` set that stands for the runbook's rights profile (profiles/illumos.ts). */
export const ZFS_ALLOW_PERMISSIONS = ['receive', 'create', 'mount', 'hold', 'release'] as const;

export const sudoersFile = (user: string) => `/etc/sudoers.d/esxi-zfs-${user}`;

export const TRUST_STEPS = [
  'ensureReplicationUser',
  'ensureReplicationKey',
  'installReceiveGuard',
  'authorizeReplicationKeys',
  'pinReplicationHostKeys',
  'closeStaleConnections',
] as const;
export type TrustStep = (typeof TRUST_STEPS)[number];

export interface TrustStepReport extends TrustChange {
  step: TrustStep;
}

export interface HostTrustReport {
  host: string;
  /** The replication user's public key on this host. */
  publicKey: string;
  /** Datasets this host receives into (its receive guard's arguments). */
  receives: string[];
  /** Sources whose keys it authorizes, and targets whose host keys it pins. */
  authorizes: string[];
  pins: string[];
  steps: TrustStepReport[];
}

export interface SetupReplicationTrustResult {
  user: string;
  hosts: HostTrustReport[];
  /** Number of changes over every host and step: 0 when everything was in place. */
  changes: number;
}
