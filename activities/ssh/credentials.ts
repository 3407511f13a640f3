/**
 * SSH credentials by reference. Workflow inputs carry only a `CredentialRef` (user name plus the
 * name of a file or environment variable); the secret itself is read here, inside the activity,
 * and never appears in an error message, a log line or a result.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';

export type CredentialRef = {
  user: string;
  /** Path of an OpenSSH/PEM private key; a leading `~/` is the worker user's home. */
  privateKeyFile?: string;
  /** Name of an environment variable holding the private key text. */
  privateKeyEnv?: string;
  /** Name of an environment variable holding the password. */
  passwordEnv?: string;
  /** Name of an environment variable holding the private key's passphrase. */
  passphraseEnv?: string;
};

export type ResolvedCredential = {
  username: string;
  privateKey?: Buffer;
  passphrase?: string;
  password?: string;
};

/** A credential reference that cannot be resolved. `field` is the CredentialRef field at fault. */
export class CredentialError extends Error {
  constructor(
    readonly field: keyof CredentialRef | 'credential',
    message: string,
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

export type ResolveOptions = {
  /** Where to read `*Env` variables from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** A name for messages, e.g. the inventory's credential id `storage-root`. */
  label?: string;
};

export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return path;
}

export function resolveCredential(ref: CredentialRef, opts: ResolveOptions = {}): ResolvedCredential {
  const env = opts.env ?? process.env;
  const what = opts.label ? `credential ${JSON.stringify(opts.label)}` : `credential for user ${JSON.stringify(ref?.user)}`;

  if (!ref || typeof ref.user !== 'string' || ref.user.length === 0) {
    throw new CredentialError('user', `${what}: user is missing`);
  }
  if (ref.privateKeyFile !== undefined && ref.privateKeyEnv !== undefined) {
    throw new CredentialError('privateKeyFile', `${what}: privateKeyFile and privateKeyEnv are exclusive; set one`);
  }
  if (ref.privateKeyFile === undefined && ref.privateKeyEnv === undefined && ref.passwordEnv === undefined) {
    throw new CredentialError('credential', `${what}: no secret referenced; set privateKeyFile, privateKeyEnv or passwordEnv`);
  }

  const fromEnv = (field: 'privateKeyEnv' | 'passwordEnv' | 'passphraseEnv'): string => {
    const name = ref[field] as string;
    if (typeof name !== 'string' || name.length === 0) {
      throw new CredentialError(field, `${what}: ${field} must name an environment variable`);
    }
    const value = env[name];
    if (value === undefined || value === '') {
      throw new CredentialError(field, `${what}: ${field}: environment variable ${name} is not set`);
    }
    return value;
  };

  const out: ResolvedCredential = { username: ref.user };
  if (ref.passphraseEnv !== undefined) out.passphrase = fromEnv('passphraseEnv');
  if (ref.passwordEnv !== undefined) out.password = fromEnv('passwordEnv');

  let keyField: 'privateKeyFile' | 'privateKeyEnv' | undefined;
  let keySource = '';
  if (ref.privateKeyFile !== undefined) {
    keyField = 'privateKeyFile';
    const path = expandHome(ref.privateKeyFile);
    keySource = path === ref.privateKeyFile ? path : `${ref.privateKeyFile} (${path})`;
    try {
      out.privateKey = readFileSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? 'error'})`;
      throw new CredentialError('privateKeyFile', `${what}: privateKeyFile ${keySource}: ${why}`);
    }
  } else if (ref.privateKeyEnv !== undefined) {
    keyField = 'privateKeyEnv';
    keySource = `environment variable ${ref.privateKeyEnv}`;
    out.privateKey = Buffer.from(fromEnv('privateKeyEnv'));
  }

  if (keyField && out.privateKey) {
    // Parse now so a wrong file or a missing passphrase is reported by field, not by ssh2 mid-connect.
    // ssh2's parser messages describe the format only, never the key material.
    const parsed = utils.parseKey(out.privateKey, out.passphrase);
    if (parsed instanceof Error) {
      const hint = /passphrase/i.test(parsed.message) && ref.passphraseEnv === undefined ? ' (encrypted key: set passphraseEnv)' : '';
      throw new CredentialError(keyField, `${what}: ${keyField} ${keySource}: not a usable private key: ${parsed.message}${hint}`);
    }
    const key = Array.isArray(parsed) ? (parsed[0] as typeof parsed) : parsed;
    if (!key || !key.isPrivateKey()) {
      throw new CredentialError(keyField, `${what}: ${keyField} ${keySource}: holds a public key, not a private key`);
    }
  }
  return out;
}
