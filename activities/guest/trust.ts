/**
 * Replication trust on a storage VM: the replication user, its key pair, the receive guard with its
 * privilege, the authorized keys of the sources and the pinned host keys of the targets.
 *
 * Every activity reads first, changes only what differs and says what it changed; a second run
 * changes nothing. What they write and run is planned in core/trust/ (pure, golden-tested). Files
 * are replaced atomically: content on stdin to a temp file in the same folder, owner and mode set,
 * validated where a checker exists (visudo), then `mv` over the old one.
 * No secret goes in or out: the private key is generated on the host and never read.
 */
import { createHmac } from 'node:crypto';
import { Failure } from '../../core/failures';
import { ApplicationFailure } from '@temporalio/common';
import { sh, type ShellScript } from '../../core/quote';
import { modeBits } from '../../core/files';
import type { Transport } from '../transport';
import { installReceiveGuard } from './receive-guard';
import type { StorageHostRef } from '../../core/hosts';
import { closerScript } from '../replication/send-command';
import { AUTHORIZED_KEYS_FILE, KEY_FILE, KNOWN_HOSTS_FILE, type PinnedTarget, type SourceKey, type TrustChange } from '../../core/trust/shared';
import { TrustConfigError, checkUser } from '../../core/trust/checks';
import { mergeAuthorizedKeys } from '../../core/trust/authorized-keys';
import { mergeKnownHosts } from '../../core/trust/known-hosts';
import { parsePasswd, parsePublicKey, shadowPassword, type PasswdEntry } from '../../core/trust/keys';
import { replicationUserPlan } from '../../core/trust/user';
import type { MergeResult } from '../../core/trust/lines';

const hashHostName = (salt: string, name: string) => createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');

const TIMEOUT_MS = 60_000;

const ownerOf = (pw: { uid: number; gid: number }) => `${pw.uid}:${pw.gid}`;

/** Configuration mistakes are not retried: they need a person. */
async function configErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof TrustConfigError) throw ApplicationFailure.nonRetryable(error.message, Failure.TrustConfig);
    throw error;
  }
}

/** The trust activities over one transport. A factory, as Temporal's samples make them: its length is that of its short activities. */
export function createTrustActivities(deps: { transport: Transport }) {
  const { transport } = deps;
  const runOk = (host: StorageHostRef, command: string[] | ShellScript) => transport.runOk(host, command, { timeoutMs: TIMEOUT_MS });
  const readFile = (host: StorageHostRef, path: string) => transport.readFile(host, path);

  async function passwd(host: StorageHostRef, user: string): Promise<PasswdEntry | undefined> {
    const r = await transport.run(host, ['getent', 'passwd', user], { timeoutMs: TIMEOUT_MS });
    if (r.code === 2 || (r.code === 0 && r.stdout.trim() === '')) return undefined;
    if (r.code !== 0) throw new Error(`${host.name}: getent passwd ${user} exited with ${r.code}: ${r.stderr.trim()}`);
    const entry = parsePasswd(r.stdout.split('\n')[0] ?? '');
    if (!entry) throw new Error(`${host.name}: cannot read the passwd entry of ${user}: ${r.stdout.trim()}`);
    return entry;
  }

  async function requirePasswd(host: StorageHostRef, user: string): Promise<PasswdEntry> {
    checkUser(user);
    const entry = await passwd(host, user);
    if (!entry) throw new TrustConfigError(`${host.name}: user ${user} does not exist (ensureReplicationUser makes it)`);
    return entry;
  }

  /** Merged managed lines of a file in the user's ~/.ssh. */
  async function ensureSshFile(
    host: StorageHostRef,
    user: string,
    relative: string,
    mode: string,
    merge: (current: string) => MergeResult,
  ): Promise<TrustChange> {
    const pw = await requirePasswd(host, user);
    const path = `${pw.home}/${relative}`;
    const current = await readFile(host, path);
    const merged = merge(current.content);
    if (!current.exists && merged.content === '') return { changed: [], warnings: [] };
    const { wrote, fixes } = await transport.ensureFile(host, path, merged.content, { owner: ownerOf(pw), uid: pw.uid, mode, dirMode: '700' }, current);
    const changes = merged.changed.length > 0 ? merged.changed : wrote ? ['rewritten (line endings)'] : [];
    return { changed: [...changes.map((c) => `${path}: ${c}`), ...fixes], warnings: [] };
  }

  return {
    /**
     * The replication user (runbook: "create the zfsadm user on all of our storage VMs"), able to
     * log in with a key: created if missing; a locked password or a no-login shell is fixed.
     */
    async ensureReplicationUser(host: StorageHostRef, user: string, options: { allowSystemUser?: boolean } = {}): Promise<TrustChange> {
      return configErrors(async () => {
        checkUser(user);
        const entry = await passwd(host, user);
        let password: string | undefined;
        if (entry) {
          const shadow = await transport.run(host, ['grep', `^${user}:`, '/etc/shadow'], { timeoutMs: TIMEOUT_MS });
          password = shadow.code === 0 ? shadowPassword(shadow.stdout.split('\n')[0] ?? '') : undefined;
        }
        const facts = entry ? { passwd: entry, ...(password !== undefined ? { password } : {}) } : {};
        const plan = replicationUserPlan(host.os, user, facts, options.allowSystemUser);
        for (const step of plan) await runOk(host, step.argv);
        if (!entry && !(await passwd(host, user))) throw new Error(`${host.name}: user ${user} still missing after useradd`);
        return { changed: plan.map((s) => s.change), warnings: [] };
      });
    },

    /**
     * The user's key pair, generated on the host (runbook: ssh-keygen as zfsadm, blank passphrase);
     * ed25519 in ~/.ssh/id_ed25519. Returns the public key line only; the private key is never read.
     */
    async ensureReplicationKey(host: StorageHostRef, user: string): Promise<TrustChange & { publicKey: string }> {
      return configErrors(async () => {
        const pw = await requirePasswd(host, user);
        const owner = ownerOf(pw);
        const dir = `${pw.home}/.ssh`;
        const key = `${pw.home}/${KEY_FILE}`;
        const pub = `${key}.pub`;
        const changed: string[] = [];
        const facts = (
          await runOk(host, sh`for f in ${dir} ${key}; do if [ -e "$f" ]; then ls -ldn "$f"; else echo absent; fi; done`)
        ).stdout.split('\n');
        const [dirLine = 'absent', keyLine = 'absent'] = facts;
        if (dirLine === 'absent') {
          await runOk(host, sh`mkdir -p ${dir} && chmod 700 ${dir} && chown ${owner} ${dir}`);
          changed.push(`created ${dir} (0700)`);
        } else {
          const f = dirLine.split(/\s+/);
          if (modeBits(f[0]) !== 0o700) {
            await runOk(host, ['chmod', '700', dir]);
            changed.push(`${dir}: mode set to 0700 (was ${f[0]})`);
          }
          if (Number(f[2]) !== pw.uid) {
            await runOk(host, ['chown', owner, dir]);
            changed.push(`${dir}: owner set to ${user}`);
          }
        }
        if (keyLine === 'absent') {
          await runOk(host, sh`ssh-keygen -q -t ed25519 -N '' -C ${`${user}@${host.name}`} -f ${key} </dev/null && chown ${owner} ${key} ${pub}`);
          changed.push(`generated an ed25519 key pair in ${key} (the private key stays on ${host.name})`);
        } else {
          const f = keyLine.split(/\s+/);
          if (((modeBits(f[0]) ?? 0) & 0o077) !== 0) {
            await runOk(host, ['chmod', '600', key]);
            changed.push(`${key}: mode set to 0600 (was ${f[0]})`);
          }
          if (Number(f[2]) !== pw.uid) {
            await runOk(host, ['chown', owner, key]);
            changed.push(`${key}: owner set to ${user}`);
          }
        }
        // The public half, derived from the private key (so a stale or missing .pub is noticed).
        const derived = parsePublicKey((await runOk(host, ['ssh-keygen', '-y', '-f', key])).stdout);
        if (!derived) throw new Error(`${host.name}: ssh-keygen -y -f ${key} printed no public key`);
        const pubFile = await readFile(host, pub);
        const onDisk = parsePublicKey(pubFile.content);
        let publicKey: string;
        if (onDisk && onDisk.type === derived.type && onDisk.blob === derived.blob) {
          publicKey = `${onDisk.type} ${onDisk.blob}${onDisk.comment ? ` ${onDisk.comment}` : ''}`;
        } else {
          publicKey = `${derived.type} ${derived.blob} ${user}@${host.name}`;
          await transport.ensureFile(host, pub, `${publicKey}\n`, { owner, uid: pw.uid, mode: '644', dirMode: '700' }, pubFile);
          if (keyLine !== 'absent') changed.push(`${pub}: rewritten from the private key`);
        }
        return { changed, warnings: [], publicKey };
      });
    },

    /** The forced command of the sources' keys and the privilege it runs zfs receive with (receive-guard.ts). */
    async installReceiveGuard(host: StorageHostRef, input: { user: string; datasets: string[] }): Promise<TrustChange> {
      return configErrors(() => installReceiveGuard(transport, host, input));
    },

    /**
     * On a target: one line per source in the user's ~/.ssh/authorized_keys, forced through the
     * receive guard, accepted from the source's storage address only, with no pty or forwarding.
     */
    async authorizeReplicationKeys(target: StorageHostRef, input: { user: string; sources: SourceKey[] }): Promise<TrustChange> {
      return configErrors(() => ensureSshFile(target, input.user, AUTHORIZED_KEYS_FILE, '600', (c) => mergeAuthorizedKeys(c, input.sources)));
    },

    /**
     * On a source: the targets' host keys, pinned from the inventory (never scanned), in the user's
     * ~/.ssh/known_hosts, which the stream's ssh uses with StrictHostKeyChecking=yes.
     */
    async pinReplicationHostKeys(source: StorageHostRef, input: { user: string; targets: PinnedTarget[] }): Promise<TrustChange> {
      return configErrors(() => ensureSshFile(source, input.user, KNOWN_HOSTS_FILE, '644', (c) => mergeKnownHosts(c, input.targets, hashHostName)));
    },

    /**
     * On a source: stops its shared ssh connections (send-command.ts) to targets whose authorization
     * changed, so that no stream runs under the forced command of before. A source that cannot be
     * reached is a warning: its connections close a minute after their last stream.
     */
    async closeStaleConnections(source: StorageHostRef, input: { user: string; targets: StorageHostRef[] }): Promise<TrustChange> {
      const changed: string[] = [];
      const warnings: string[] = [];
      for (const target of input.targets) {
        const script = closerScript({ user: input.user, address: target.storageAddress, port: target.port ?? 22, ciphers: [] });
        try {
          const outcome = (await runOk(source, script)).stdout.trim();
          if (outcome === 'stopped') changed.push(`stopped the shared ssh connection to ${target.name}: the next stream logs in under the new authorization`);
          else if (outcome === 'removed') changed.push(`removed a dead shared connection's socket for ${target.name}`);
        } catch (error) {
          warnings.push(`cannot stop the shared ssh connection to ${target.name}: ${(error as Error).message.split('\n')[0]}; it closes 60 s after its last stream`);
        }
      }
      return { changed, warnings };
    },
  };
}

export type TrustActivities = ReturnType<typeof createTrustActivities>;
