/**
 * What workflows are given about a storage host: where it is, its pinned host key, and the
 * *reference* to its credential (user plus file or variable names). No secret: activities resolve it.
 */

export const OS_PROFILES = ['illumos', 'linux'] as const;
export type OsProfile = (typeof OS_PROFILES)[number];

export interface CredentialRef {
  user: string;
  privateKeyFile?: string;
  privateKeyEnv?: string;
  passwordEnv?: string;
  passphraseEnv?: string;
}

export interface StorageHostRef {
  name: string;
  os: OsProfile;
  address: string;
  port?: number;
  hostKey: string;
  credential: CredentialRef;
  diskDirectory?: string;
  /** Address the other storage VMs use to reach this one (the storage network's NIC when there is one). */
  storageAddress: string;
}
