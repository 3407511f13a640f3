/**
 * Pinned host keys. The inventory pins each host's key as an OpenSSH public key line
 * (`ssh-ed25519 AAAA...`, a known_hosts entry without the host field). A connection is accepted
 * only when the server presents exactly that key; anything else fails with
 * `HostKeyMismatchError`, which *is* a non-retryable Temporal `ApplicationFailure`
 * (type `HostKeyMismatch`), so an activity that lets it propagate fails at once instead of
 * retrying into a possible man-in-the-middle. Nothing is ever accepted on first use.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { ServerHostKeyAlgorithm } from 'ssh2';

export type PinnedHostKey = {
  /** Key type from the blob, e.g. `ssh-ed25519`. */
  type: string;
  /** The SSH wire-format public key (what base64 in the line decodes to). */
  blob: Buffer;
  /** `SHA256:...` as `ssh-keygen -lf` prints it. */
  fingerprint: string;
};

/** `SHA256:<base64 without padding>` of an SSH public key blob, as `ssh-keygen -lf` prints. */
export function fingerprint(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type string at the head of an SSH wire-format key blob, or undefined if malformed. */
export function keyBlobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  const type = blob.subarray(4, 4 + len).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : undefined;
}

const HOST_KEY_ALGORITHMS: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  // One RSA key serves three signature algorithms; prefer the SHA-2 ones (RFC 8332).
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
};

/** Parse a pinned key line. Throws (plain Error, a configuration mistake) when it is not one. */
export function parseHostKey(line: string): PinnedHostKey {
  const fields = String(line ?? '').trim().split(/\s+/);
  const [declared, b64] = fields;
  if (!declared || !b64) {
    throw new Error(`hostKey must be an OpenSSH public key line like "ssh-ed25519 AAAA...", got ${JSON.stringify(String(line ?? '').slice(0, 40))}`);
  }
  if (!(declared in HOST_KEY_ALGORITHMS)) {
    const hint = b64 in HOST_KEY_ALGORITHMS ? ' (this looks like a known_hosts line: drop the leading host field)' : '';
    throw new Error(`hostKey: unsupported key type ${JSON.stringify(declared)}${hint}; expected one of ${Object.keys(HOST_KEY_ALGORITHMS).join(', ')}`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error(`hostKey: the ${declared} key is not valid base64`);
  const blob = Buffer.from(b64, 'base64');
  const type = keyBlobType(blob);
  if (type !== declared) {
    throw new Error(`hostKey: the key data is of type ${JSON.stringify(type ?? 'malformed')} but the line says ${declared}`);
  }
  return { type, blob, fingerprint: fingerprint(blob) };
}

/** The `algorithms.serverHostKey` list that makes the server present the pinned key's type. */
export function serverHostKeyAlgorithms(pinned: PinnedHostKey | string): ServerHostKeyAlgorithm[] {
  const type = typeof pinned === 'string' ? parseHostKey(pinned).type : pinned.type;
  const algos = HOST_KEY_ALGORITHMS[type];
  if (!algos) throw new Error(`hostKey: unsupported key type ${type}`);
  return [...algos];
}

export type HostIdentity = { name: string; address: string; port?: number };

export type HostKeyMismatchDetails = {
  host: string;
  address: string;
  port: number;
  expected: string;
  presented: string;
  expectedType: string;
  presentedType: string;
};

/**
 * The server presented a key other than the pinned one. A non-retryable ApplicationFailure of
 * type `HostKeyMismatch`: throw it from an activity as is. Details (fingerprints only, no secret)
 * are attached for the Temporal UI.
 */
export class HostKeyMismatchError extends ApplicationFailure {
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly expected: string;
  readonly presented: string;

  constructor(d: HostKeyMismatchDetails) {
    const presented = d.presentedType === 'none' ? `server has no ${d.expectedType} host key to present (${d.presented})` : `server presented ${d.presentedType} ${d.presented}`;
    super(
      `host key mismatch for ${d.host} (${d.address}:${d.port}): expected ${d.expectedType} ${d.expected} (pinned in the inventory), ` +
        `${presented}. Refusing to connect. If the host was reinstalled, ` +
        `verify the new key out of band (ssh-keygen -lf on the host) and update its hostKey.`,
      'HostKeyMismatch',
      true,
      [d],
    );
    this.host = d.host;
    this.address = d.address;
    this.port = d.port;
    this.expected = d.expected;
    this.presented = d.presented;
  }
}
// ApplicationFailure defines a read-only `name` on its prototype; give the subclass its own.
Object.defineProperty(HostKeyMismatchError.prototype, 'name', { value: 'HostKeyMismatchError', enumerable: true });

/**
 * A host verifier for ssh2 (`hostVerifier` option, synchronous form: ssh2 passes the raw key blob
 * when `hostHash` is not set). `mismatch()` returns the error to report after ssh2 aborts the
 * handshake with its generic "Host denied (verification failed)".
 */
export function createHostVerifier(
  host: HostIdentity,
  pin: PinnedHostKey | string,
): {
  hostVerifier: (key: Buffer) => boolean;
  mismatch: () => HostKeyMismatchError | undefined;
  noKeyOfPinnedType: (offered?: string) => HostKeyMismatchError;
  pinned: PinnedHostKey;
} {
  const pinned = typeof pin === 'string' ? parseHostKey(pin) : pin;
  let error: HostKeyMismatchError | undefined;
  const hostVerifier = (key: Buffer): boolean => {
    if (Buffer.isBuffer(key) && key.equals(pinned.blob)) return true;
    error = new HostKeyMismatchError({
      host: host.name,
      address: host.address,
      port: host.port ?? 22,
      expected: pinned.fingerprint,
      presented: Buffer.isBuffer(key) ? fingerprint(key) : 'unknown',
      expectedType: pinned.type,
      presentedType: (Buffer.isBuffer(key) && keyBlobType(key)) || 'unknown',
    });
    return false;
  };
  /** The server offers no host key of the pinned type (ssh2: "no matching host key format"). */
  const noKeyOfPinnedType = (offered?: string): HostKeyMismatchError =>
    (error = new HostKeyMismatchError({
      host: host.name,
      address: host.address,
      port: host.port ?? 22,
      expected: pinned.fingerprint,
      presented: offered ? `it offers ${offered}` : 'no matching host key format',
      expectedType: pinned.type,
      presentedType: 'none',
    }));
  return { hostVerifier, mismatch: () => error, noKeyOfPinnedType, pinned };
}

export function isHostKeyMismatch(err: unknown): err is HostKeyMismatchError {
  return err instanceof HostKeyMismatchError;
}
