/**
 * One SSH connection per host, reused by every command the worker runs there.
 *
 * - Keyed by name + address + port + user; connected lazily on first use; a closed or failed
 *   connection is dropped and the next use reconnects.
 * - The host key is pinned (`host-key.ts`): `algorithms.serverHostKey` is forced to the pinned
 *   key's type and any other key fails the handshake with a non-retryable `HostKeyMismatchError`.
 *   If a target's pinned key changes, the old connection is closed rather than reused.
 * - Credentials are resolved from files/env at connect time (`credentials.ts`).
 * - SSH-level keepalives detect dead peers; `connectTimeoutMs` bounds TCP + handshake + auth.
 * - At most `maxChannelsPerHost` commands run at once on one connection (OpenSSH's MaxSessions
 *   default is 10; beyond it channel opens fail), further callers wait their turn.
 */
import { Client, type ConnectConfig, type ServerHostKeyAlgorithm } from 'ssh2';
import { connect as tcpConnect, type Socket } from 'node:net';
import { resolveCredential, type ResolvedCredential } from './credentials';
import { SshConnectionError, describeTarget, targetKey, type ConnectStage, type SshTarget } from './target';
import { createHostVerifier, serverHostKeyAlgorithms } from './host-key';

export type SshPoolOptions = {
  /** TCP connect + SSH handshake + authentication, ms (default 20 000). */
  connectTimeoutMs?: number;
  /** SSH keepalive interval, ms (default 15 000; 0 disables). */
  keepaliveIntervalMs?: number;
  /** Unanswered keepalives before the connection is declared dead (default 4). */
  keepaliveCountMax?: number;
  /** Concurrent channels (commands) per connection (default 8). */
  maxChannelsPerHost?: number;
  /** Close a connection idle this long, ms (default 300 000; 0 = never). */
  idleTimeoutMs?: number;
  /** Environment for credential `*Env` references (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** ssh2 debug lines. */
  debug?: (line: string) => void;
};

export type SshPoolStats = {
  /** Successful connections made since the pool was created. */
  connects: number;
  /** Channel acquisitions served by an already-open connection. */
  reuses: number;
  /** Connections currently open. */
  open: number;
  /** Channels currently in use over all hosts. */
  channelsInUse: number;
};

type Entry = {
  key: string;
  hostKey: string;
  ready: Promise<Client>;
  client: Client;
  /**
   * Our socket under `client`. Dropping a connection destroys it: ssh2's own destroy() does
   * nothing once end() has half-closed the socket, and a peer that is gone (its address removed)
   * never answers that FIN, so the socket would stay open for minutes and keep the process alive.
   */
  socket?: Socket;
  connected: boolean;
  closed: boolean;
  lastError?: Error;
  idleTimer?: NodeJS.Timeout;
};

type Slots = { active: number; waiters: Array<() => void> };

/** What a connect needs besides the target: resolved once, before any socket is opened. */
type ConnectInputs = { credential: ResolvedCredential; verifier: HostVerifier; algorithms: ServerHostKeyAlgorithm[] };
type HostVerifier = ReturnType<typeof createHostVerifier>;

/** Settles a connection's `ready` once (see SshPool.settler). */
type Settle = { done: boolean; ok: () => void; fail: (err: Error) => void };

function connectInputs(target: SshTarget, env: NodeJS.ProcessEnv | undefined): ConnectInputs {
  const credential = resolveCredential(target.credential, { env, label: `${target.credential?.user}@${target.name}` });
  const verifier = createHostVerifier({ name: target.name, address: target.address, port: target.port ?? 22 }, target.hostKey);
  return { credential, verifier, algorithms: serverHostKeyAlgorithms(verifier.pinned) };
}

/** Makes the errors of one target's connection: `ssh name (address:port): message`, with its stage. */
function connectionFailure(target: SshTarget): (stage: ConnectStage, msg: string, cause?: unknown) => SshConnectionError {
  const where = describeTarget(target);
  return (stage, msg, cause) =>
    new SshConnectionError(target.name, target.address, target.port ?? 22, stage, `ssh ${where}: ${msg}`, cause === undefined ? undefined : { cause });
}

/** Names the stage an error before `ready` came from (ssh2's `level`, or the message). */
function connectError(target: SshTarget, err: Error & { level?: string }, verifier: HostVerifier, connectTimeoutMs: number): Error {
  const fail = connectionFailure(target);
  switch (err.level) {
    case 'client-timeout':
      return fail('timeout', `no SSH handshake/authentication within ${connectTimeoutMs} ms`, err);
    case 'client-authentication':
      return fail('auth', `authentication as ${JSON.stringify(target.credential.user)} failed (${err.message})`, err);
    case 'client-socket':
      return fail('connect', `cannot connect: ${err.message}`, err);
  }
  // We only offered the pinned key's type: a server without such a key is not the pinned host.
  if (/no matching host key format/i.test(err.message)) return verifier.noKeyOfPinnedType();
  return fail('handshake', `SSH handshake failed: ${err.message}`, err);
}

export type ChannelLease = {
  client: Client;
  /** Why the connection went away, if it did (for error messages). */
  connectionError: () => Error | undefined;
  isClosed: () => boolean;
  release: () => void;
};

export class SshPool {
  private readonly entries = new Map<string, Entry>();
  private readonly slots = new Map<string, Slots>();
  private readonly opts: Required<Omit<SshPoolOptions, 'env' | 'debug'>> & Pick<SshPoolOptions, 'env' | 'debug'>;
  private counters = { connects: 0, reuses: 0 };

  constructor(opts: SshPoolOptions = {}) {
    this.opts = {
      connectTimeoutMs: opts.connectTimeoutMs ?? 20_000,
      keepaliveIntervalMs: opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: opts.keepaliveCountMax ?? 4,
      maxChannelsPerHost: Math.max(1, opts.maxChannelsPerHost ?? 8),
      idleTimeoutMs: opts.idleTimeoutMs ?? 300_000,
      env: opts.env,
      debug: opts.debug,
    };
  }

  stats(): SshPoolStats {
    let open = 0;
    for (const e of this.entries.values()) if (e.connected && !e.closed) open++;
    let channelsInUse = 0;
    for (const s of this.slots.values()) channelsInUse += s.active;
    return { ...this.counters, open, channelsInUse };
  }

  /** The connected client for a target (connecting if needed). Prefer `acquire` for commands. */
  async client(target: SshTarget): Promise<Client> {
    return (await this.entry(target)).ready;
  }

  /**
   * Reserve one channel slot on the target's connection. Waits while `maxChannelsPerHost`
   * commands are running there; rejects if `signal` aborts while waiting.
   */
  async acquire(target: SshTarget, signal?: AbortSignal): Promise<ChannelLease> {
    const key = targetKey(target);
    await this.takeSlot(key, signal);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.giveSlot(key);
    };
    try {
      const reusing = this.entries.get(key);
      const wasConnected = !!reusing && reusing.connected && !reusing.closed && reusing.hostKey === target.hostKey;
      const entry = await this.entry(target);
      const client = await raceAbort(entry.ready, signal);
      if (wasConnected && this.entries.get(key) === entry) this.counters.reuses++;
      if (entry.idleTimer) {
        clearTimeout(entry.idleTimer);
        entry.idleTimer = undefined;
      }
      return {
        client,
        connectionError: () => entry.lastError,
        isClosed: () => entry.closed,
        release: () => {
          release();
          this.armIdle(entry);
        },
      };
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Close one target's connection (in-flight commands on it fail). */
  async close(target: SshTarget): Promise<void> {
    const e = this.entries.get(targetKey(target));
    if (e) await this.end(e);
  }

  /** Close every connection. The pool stays usable (later use reconnects). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => this.end(e)));
  }

  // ---------------------------------------------------------------------------------------------

  private async takeSlot(key: string, signal?: AbortSignal): Promise<void> {
    let s = this.slots.get(key);
    if (!s) this.slots.set(key, (s = { active: 0, waiters: [] }));
    if (signal?.aborted) throw abortError(signal);
    if (s.active < this.opts.maxChannelsPerHost) {
      s.active++;
      return;
    }
    const slots = s;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = slots.waiters.indexOf(grant);
        if (i >= 0) slots.waiters.splice(i, 1);
        reject(abortError(signal!));
      };
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      slots.waiters.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private giveSlot(key: string): void {
    const s = this.slots.get(key);
    if (!s) return;
    const next = s.waiters.shift();
    if (next) next(); // the slot passes directly to the waiter: active stays the same
    else s.active--;
  }

  private armIdle(entry: Entry): void {
    if (!this.opts.idleTimeoutMs || entry.closed) return;
    const s = this.slots.get(entry.key);
    if (s && s.active > 0) return;
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => {
      const now = this.slots.get(entry.key);
      if (!now || now.active === 0) void this.end(entry);
    }, this.opts.idleTimeoutMs);
    entry.idleTimer.unref();
  }

  private async entry(target: SshTarget): Promise<Entry> {
    const key = targetKey(target);
    const existing = this.entries.get(key);
    if (existing && !existing.closed) {
      if (existing.hostKey === target.hostKey) return existing;
      // The pin changed: never reuse a connection verified against another key.
      await this.end(existing);
    }
    const entry = this.connect(target, key);
    this.entries.set(key, entry);
    return entry;
  }

  /**
   * A new entry whose `ready` settles once: with the client when the handshake and authentication
   * are done, or with the first failure (named by stage). Credential errors (CredentialError) and
   * malformed pins are configuration mistakes: reported as they are, before connecting.
   */
  private connect(target: SshTarget, key: string): Entry {
    const client = new Client();
    const entry: Entry = { key, hostKey: target.hostKey, client, connected: false, closed: false, ready: undefined as unknown as Promise<Client> };
    entry.ready = new Promise<Client>((resolve, reject) => {
      const settle = this.settler(entry, resolve, reject);
      let inputs: ConnectInputs;
      try {
        inputs = connectInputs(target, this.opts.env);
      } catch (e) {
        settle.fail(e as Error);
        return;
      }
      this.watchClient(target, entry, inputs, settle);
      const cfg = this.connectConfig(target, inputs);
      entry.socket = cfg.sock as Socket;
      try {
        client.connect(cfg);
      } catch (e) {
        settle.fail(connectionFailure(target)('config', `cannot start SSH connection: ${(e as Error).message}`, e));
      }
    });
    // The caller awaits `ready`; this keeps a failed connect that nobody awaits from being "unhandled".
    entry.ready.catch(() => undefined);
    return entry;
  }

  /**
   * Settles an entry's `ready` once. A failure marks the entry closed, drops it from the pool and
   * ends the client; a failure after settling only records itself as the entry's `lastError`.
   */
  private settler(entry: Entry, resolve: (client: Client) => void, reject: (err: Error) => void): Settle {
    const settle: Settle = {
      done: false,
      ok: () => {
        if (settle.done) return;
        settle.done = true;
        entry.connected = true;
        this.counters.connects++;
        resolve(entry.client);
      },
      fail: (err) => {
        entry.lastError = err;
        if (settle.done) return;
        settle.done = true;
        entry.closed = true;
        this.forget(entry);
        entry.socket?.destroy();
        reject(err);
      },
    };
    return settle;
  }

  /**
   * The client's events for its whole life. Before `ready` an error or a close fails the connect;
   * after it they only record why the connection went away (`lastError`, for the commands running
   * on it: they see the channel close and report a lost connection). A host-key mismatch always wins.
   */
  private watchClient(target: SshTarget, entry: Entry, inputs: ConnectInputs, settle: Settle): void {
    const { client } = entry;
    const { verifier, credential } = inputs;
    const fail = connectionFailure(target);
    client.on('ready', () => settle.ok());
    client.on('error', (err: Error & { level?: string }) => {
      // A permanent listener: an 'error' without one would crash the worker.
      const mismatch = verifier.mismatch();
      if (mismatch) return settle.fail(mismatch);
      if (settle.done) {
        entry.lastError = fail('lost', `connection lost: ${err.message}`, err);
        // Fatal after ready (a keepalive timeout, a reset): nothing is left to close gracefully.
        entry.socket?.destroy();
        return;
      }
      settle.fail(connectError(target, err, verifier, this.opts.connectTimeoutMs));
    });
    client.on('keyboard-interactive', (_name, _instr, _lang, prompts, finish) => {
      // Password over keyboard-interactive (sshd with KbdInteractiveAuthentication and PAM).
      finish(prompts.map(() => credential.password ?? ''));
    });
    client.on('close', () => {
      entry.closed = true;
      if (entry.idleTimer) clearTimeout(entry.idleTimer);
      this.forget(entry);
      if (!settle.done) settle.fail(verifier.mismatch() ?? fail('handshake', 'connection closed during the SSH handshake'));
      else if (!entry.lastError) entry.lastError = fail('lost', 'connection closed');
    });
  }

  private connectConfig(target: SshTarget, { credential, verifier, algorithms }: ConnectInputs): ConnectConfig {
    const port = target.port ?? 22;
    return {
      // Our own socket, to turn Nagle off: with it every short command waits ~40 ms for a delayed ACK.
      sock: tcpConnect({ host: target.address, port, noDelay: true }),
      host: target.address,
      port,
      username: credential.username,
      privateKey: credential.privateKey,
      passphrase: credential.passphrase,
      password: credential.password,
      tryKeyboard: credential.password !== undefined,
      hostVerifier: verifier.hostVerifier,
      // Only the pinned key's type is offered: any other host key fails the handshake.
      algorithms: { serverHostKey: algorithms },
      readyTimeout: this.opts.connectTimeoutMs,
      keepaliveInterval: this.opts.keepaliveIntervalMs,
      keepaliveCountMax: this.opts.keepaliveCountMax,
      debug: this.opts.debug,
    };
  }

  /** Drop the entry from the pool unless a newer connection has taken its place. */
  private forget(entry: Entry): void {
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
  }

  private end(entry: Entry): Promise<void> {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    this.forget(entry);
    const client = entry.client;
    if (entry.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        // The peer did not close in time: drop the socket.
        entry.socket?.destroy();
        resolve();
      }, 2000);
      t.unref();
      client.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      entry.closed = true;
      try {
        client.end();
      } catch {
        clearTimeout(t);
        resolve();
      }
    });
  }
}

export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  const err = new Error(`aborted${reason instanceof Error ? `: ${reason.message}` : reason !== undefined ? `: ${String(reason)}` : ''}`, { cause: reason });
  err.name = 'AbortError';
  return err;
}

/** Wait for `p` unless `signal` aborts first (the underlying work continues; its result is pooled). */
function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
