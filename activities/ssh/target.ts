/** A host the SSH layer connects to, how it is named in messages and in the pool, and how connecting fails. */
import type { CredentialRef } from './credentials';

export type SshTarget = {
  /** Host name for messages and the pool key (e.g. the storage VM name `uss1`). */
  name: string;
  address: string;
  port?: number;
  /** Pinned host key, an OpenSSH public key line `ssh-ed25519 AAAA...`. */
  hostKey: string;
  credential: CredentialRef;
};

export type ConnectStage = 'config' | 'connect' | 'handshake' | 'auth' | 'timeout' | 'lost';

/** Connecting failed, or the connection was lost mid-command. Message names host and address. */
export class SshConnectionError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly port: number,
    readonly stage: ConnectStage,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SshConnectionError';
  }
}

export function describeTarget(t: Pick<SshTarget, 'name' | 'address' | 'port'>): string {
  return `${t.name} (${t.address}:${t.port ?? 22})`;
}

export function targetKey(t: SshTarget): string {
  return [t.name, t.address, t.port ?? 22, t.credential?.user].join('|');
}
