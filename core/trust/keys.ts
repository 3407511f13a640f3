/** Public keys and the account facts read from a host (getent passwd, /etc/shadow). */
import { TrustConfigError } from './checks';

const KEY_TYPE = /^(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface PublicKey {
  type: string;
  blob: string;
  comment?: string;
}

/** `type base64 [comment]`, or undefined when it is not one. */
export function parsePublicKey(text: string): PublicKey | undefined {
  const [type, blob, ...rest] = text.trim().split(/\s+/);
  if (!type || !blob || !KEY_TYPE.test(type) || !BASE64.test(blob)) return undefined;
  const comment = rest.join(' ');
  return comment ? { type, blob, comment } : { type, blob };
}

export function requireKey(text: string, what: string): PublicKey {
  const key = parsePublicKey(text);
  if (!key) throw new TrustConfigError(`${what} is not an OpenSSH public key line ("ssh-ed25519 AAAA..."): ${JSON.stringify(text.slice(0, 80))}`);
  return key;
}

// ------------------------------------------------------------------------------------------------
// Facts read from a host

export interface PasswdEntry {
  user: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** One `getent passwd USER` line. */
export function parsePasswd(line: string): PasswdEntry | undefined {
  const f = line.trim().split(':');
  if (f.length < 7) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || !f[5]) return undefined;
  return { user: f[0]!, uid, gid, home: f[5], shell: f[6] ?? '' };
}

/** The password field of a `/etc/shadow` line. */
export function shadowPassword(line: string): string | undefined {
  const f = line.trim().split(':');
  return f.length >= 2 ? f[1] : undefined;
}
