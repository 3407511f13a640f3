/** The engine under exec.ts: one remote command on a leased channel, from open to settled. */
import { type Readable, Transform } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import type { ChannelLease, SshPool } from './connection';
import { SshConnectionError, describeTarget, type SshTarget } from './target';
import { ExecAbortedError, ExecMaxBufferError, type ExecOptions, type ExecResult, ExecTimeoutError, SshCommandError, showCommand } from './exec-types';
import { KILL_GRACE_MS, PGID_MARKER, PGID_PREFIX, killRemoteGroup, signalChannel } from './process-group';

// ------------------------------------------------------------------------------------------------
// The engine. `start` opens the command's channel (`openCommand`), then a `RemoteCommand` runs it:
// it collects or streams the output, feeds stdin, stops the command when asked (`terminate`) and
// settles `done` exactly once, when the channel closes or when the call is stopped.

type Raw = ExecResult & { stdoutBytes: number; stderrBytes: number };
type Running = { stdout?: Readable; done: Promise<Raw> };

/** Most stdout `exec` keeps (beyond it the command is terminated and the call rejects); stderr keeps its last this many bytes. */
const MAX_BUFFER = 32 * 1024 * 1024;
/** After SIGKILL and our channel close: how long the peer gets to confirm the close before the slot is given back anyway. */
const CLOSE_CONFIRM_MS = 5000;
/** How long a channel that opened after we stopped waiting gets to name its process group before it is closed. */
const LATE_CHANNEL_MS = 2000;

export async function start(pool: SshPool, target: SshTarget, command: string, opts: ExecOptions, streaming: boolean): Promise<Running> {
  const t0 = Date.now();
  const stop = new CallStop(target, command, opts);
  const opened = await openCommand(pool, target, command, stop);
  stop.started = true;
  return new RemoteCommand(target, command, opts, stop, opened, t0).run(streaming);
}

/**
 * Why a call stops early: its deadline (`timeoutMs`, which covers the slot wait, connecting and
 * running) or the caller's abort signal, merged into one internal signal that every stage listens
 * to. `error()` says which of the two, and whether the command had started by then.
 */
class CallStop {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;
  private timedOut = false;
  started = false;
  private readonly onCallerAbort = (): void => this.controller.abort(this.opts.signal?.reason);

  constructor(
    private readonly target: SshTarget,
    private readonly command: string,
    private readonly opts: ExecOptions,
  ) {
    if (opts.signal?.aborted) throw this.error();
    opts.signal?.addEventListener('abort', this.onCallerAbort, { once: true });
    if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.controller.abort(new Error('timeout'));
      }, opts.timeoutMs);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  error(): SshCommandError {
    return this.timedOut
      ? new ExecTimeoutError(this.target, this.command, this.opts.timeoutMs!, this.started)
      : new ExecAbortedError(this.target, this.command, this.opts.signal?.reason, this.started);
  }

  /** The call has settled (or failed to start): neither the deadline nor the caller's signal matters any more. */
  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.opts.signal?.removeEventListener('abort', this.onCallerAbort);
  }
}

/** A channel's exit status, recorded by a listener attached the moment the channel exists. */
type ExitRecord = { code?: number | null; signal?: string };
type OpenedCommand = { lease: ChannelLease; channel: ClientChannel; exit: ExitRecord };

/**
 * A channel slot, the pooled connection and the command's channel, the command prefixed with
 * PGID_PREFIX. One retry when the pooled connection turned out to be dead before the command was
 * sent (safe: nothing ran). On failure `stop` is disarmed; a stop while waiting rejects with its error.
 */
async function openCommand(pool: SshPool, target: SshTarget, command: string, stop: CallStop): Promise<OpenedCommand> {
  for (let attempt = 1; ; attempt++) {
    let lease: ChannelLease;
    try {
      lease = await pool.acquire(target, stop.signal);
    } catch (e) {
      stop.disarm();
      throw stop.signal.aborted ? stop.error() : e;
    }
    try {
      return { lease, ...(await openChannel(lease, PGID_PREFIX + command, stop.signal)) };
    } catch (e) {
      const dead = lease.isClosed();
      lease.release();
      if (stop.signal.aborted) {
        stop.disarm();
        throw stop.error();
      }
      if (dead && attempt === 1) continue;
      stop.disarm();
      throw new SshConnectionError(
        target.name,
        target.address,
        target.port ?? 22,
        dead ? 'lost' : 'connect',
        `ssh ${describeTarget(target)}: cannot start command (${(e as Error)?.message ?? e}): ${showCommand(command)}`,
        { cause: e },
      );
    }
  }
}

/** Open a session channel running `command`; rejects with `signal.reason` if the signal aborts first. */
function openChannel(lease: ChannelLease, command: string, signal: AbortSignal): Promise<{ channel: ClientChannel; exit: ExitRecord }> {
  return new Promise<{ channel: ClientChannel; exit: ExitRecord }>((resolve, reject) => {
    let done = false;
    const onAbort = () => {
      if (done) return;
      done = true;
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      lease.client.exec(command, (err, channel) => {
        signal.removeEventListener('abort', onAbort);
        if (done) {
          if (channel) abandonLateChannel(lease, channel);
          return;
        }
        done = true;
        if (err) return reject(err);
        // The exit status can arrive in the same packets as the exec reply, i.e. before whoever
        // awaits this promise could listen: record it here.
        const exit: ExitRecord = {};
        channel.on('exit', (code: number | null, sig?: string) => {
          exit.code = code;
          if (sig) exit.signal = sig;
        });
        resolve({ channel, exit });
      });
    } catch (e) {
      signal.removeEventListener('abort', onAbort);
      done = true;
      reject(e);
    }
  });
}

/**
 * The channel opened after we stopped waiting for it (timeout/abort): its command must not run on.
 * Signal the channel, stop the process group once the marker names it, close the channel (at the
 * latest after LATE_CHANNEL_MS).
 */
function abandonLateChannel(lease: ChannelLease, channel: ClientChannel): void {
  signalChannel(channel, 'TERM');
  channel.stderr.once('data', (chunk: Buffer) => {
    const m = /^esxi-zfs-pgid:(\d+)\n/.exec(chunk.toString('latin1'));
    if (m) killRemoteGroup(lease, Number(m[1]), 'TERM');
    channel.close();
  });
  setTimeout(() => channel.close(), LATE_CHANNEL_MS).unref();
  channel.resume();
  channel.stderr.resume();
}

/**
 * Reads our process-group marker line (PGID_PREFIX) off the start of stderr. `push` hands back the
 * command's own stderr and, once the marker line is complete, the group. Bytes that might still be
 * the start of a marker are held back. Without a marker at the start (a forced command ran instead
 * of ours, an exotic shell) everything is plain stderr.
 */
class PgidMarkerReader {
  /** Held-back start of stderr; undefined once the marker was read or ruled out. */
  private head: Buffer | undefined = Buffer.alloc(0);

  push(chunk: Buffer): { stderr?: Buffer; pgid?: number } {
    if (this.head === undefined) return { stderr: chunk };
    const head = Buffer.concat([this.head, chunk]);
    const nl = head.indexOf(10);
    const n = Math.min(head.length, PGID_MARKER.length);
    const startsLikeMarker = head.subarray(0, n).toString('latin1') === PGID_MARKER.slice(0, n);
    if (!startsLikeMarker || (nl === -1 && head.length > 64)) {
      this.head = undefined;
      return { stderr: head };
    }
    if (nl === -1) {
      this.head = head;
      return {};
    }
    this.head = undefined;
    const m = /^esxi-zfs-pgid:(\d+)$/.exec(head.subarray(0, nl).toString('latin1'));
    return {
      ...(m && Number(m[1]) > 1 ? { pgid: Number(m[1]) } : {}),
      ...(head.length > nl + 1 ? { stderr: head.subarray(nl + 1) } : {}),
    };
  }

  /** At the end of stderr: what was held back only looked like the start of a marker; it was plain output. */
  flush(): Buffer | undefined {
    const rest = this.head;
    this.head = undefined;
    return rest !== undefined && rest.length > 0 ? rest : undefined;
  }
}

/** Keeps the last `max` bytes written to it. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  dropped = 0;
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.max && this.chunks.length > 0) {
      const over = this.size - this.max;
      const first = this.chunks[0];
      if (first.length <= over) {
        this.chunks.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(over);
        this.size -= over;
        this.dropped += over;
      }
    }
  }
  text(): string {
    const body = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped ? `[… ${this.dropped} bytes of stderr dropped]\n${body}` : body;
  }
}

/**
 * One started command, from its open channel to its settled `done`.
 *
 * Invariants:
 * - `settled` is set once: by `terminate` (timeout, abort, too much stdout, the reader closed
 *   stdout, stdin failed) or by the channel's close. Output that arrives after it is not kept.
 * - The lease (channel slot) is given back once the channel has closed, or CLOSE_CONFIRM_MS after
 *   our own close when the peer never confirms it (`cleanup`).
 * - A close without an exit status is a lost connection (or a server that closed the channel
 *   without one): `done` rejects with SshConnectionError 'lost', never resolves with a made-up code.
 */
class RemoteCommand {
  private stdoutBytes = 0;
  private stderrBytes = 0;
  private readonly outChunks: Buffer[] = [];
  private readonly errTail = new TailBuffer(MAX_BUFFER);
  private readonly marker = new PgidMarkerReader();
  private pgid: number | undefined;
  private out: Transform | undefined;
  private settled = false;
  private closed = false;
  private graceTimer: NodeJS.Timeout | undefined;
  private closeConfirmTimer: NodeJS.Timeout | undefined;
  private readonly channel: ClientChannel;
  private readonly lease: ChannelLease;
  private readonly exit: ExitRecord;
  private readonly done: Promise<Raw>;
  private resolveDone!: (r: Raw) => void;
  private rejectDone!: (e: unknown) => void;

  constructor(
    private readonly target: SshTarget,
    private readonly command: string,
    private readonly opts: ExecOptions,
    private readonly stop: CallStop,
    opened: OpenedCommand,
    private readonly t0: number,
  ) {
    ({ channel: this.channel, lease: this.lease, exit: this.exit } = opened);
    this.done = new Promise<Raw>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A stream consumer may never look at `done` when stdout already failed; don't crash the process for it.
    this.done.catch(() => undefined);
  }

  run(streaming: boolean): Running {
    if (streaming) this.streamStdout();
    else this.bufferStdout();
    this.channel.stderr.on('data', (chunk: Buffer) => this.onStderrData(chunk));
    if (this.stop.signal.aborted) this.terminate(this.stop.error());
    else this.stop.signal.addEventListener('abort', () => this.terminate(this.stop.error()), { once: true });
    this.channel.on('close', () => this.onClose());
    this.feedInput();
    return { stdout: this.out, done: this.done };
  }

  /** `exec`: keep stdout up to MAX_BUFFER; more terminates the command. */
  private bufferStdout(): void {
    this.channel.on('data', (chunk: Buffer) => {
      if (this.settled) return;
      this.stdoutBytes += chunk.length;
      if (this.stdoutBytes > MAX_BUFFER) return this.terminate(new ExecMaxBufferError(this.target, this.command, MAX_BUFFER));
      this.outChunks.push(chunk);
    });
  }

  /** `execStream`: stdout through a counting Transform, with the reader's backpressure. */
  private streamStdout(): void {
    const out = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.stdoutBytes += chunk.length;
        cb(null, chunk);
      },
    });
    out.on('close', () => {
      // The consumer destroyed stdout before the end: stop the command. (A stream read to its end
      // closes too, possibly before the channel does: that is no reason to stop anything.)
      if (!this.closed && !this.settled && !out.readableEnded) this.terminate(this.failure('stdout closed by the reader before the command finished'));
    });
    this.channel.pipe(out);
    this.out = out;
  }

  private onStderrData(chunk: Buffer): void {
    const { stderr, pgid } = this.marker.push(chunk);
    if (pgid !== undefined) {
      this.pgid = pgid;
      if (this.settled && !this.closed) this.killGroup('TERM'); // terminated before we learnt the group
    }
    if (stderr) this.keepStderr(stderr);
  }

  private keepStderr(chunk: Buffer): void {
    this.stderrBytes += chunk.length;
    if (this.settled) return;
    this.errTail.push(chunk);
  }

  /** stdin: the input then EOF, or EOF at once. A failing input stream stops the command. */
  private feedInput(): void {
    const input = this.opts.input;
    if (input === undefined) this.channel.end();
    else if (typeof input === 'string' || Buffer.isBuffer(input)) this.channel.end(input);
    else {
      input.once('error', (e) => this.terminate(this.failure(`input stream failed (${e.message})`, e)));
      input.pipe(this.channel);
    }
  }

  /**
   * The stop sequence. Rejects `done` at once; the remote command gets SIGTERM both as a channel
   * signal and through its process group over a second channel (root sessions ignore channel
   * signals, see PGID_PREFIX); after KILL_GRACE_MS, SIGKILL the same two ways and our channel close.
   * Output keeps being drained meanwhile: ssh2 only emits 'close' once the readable side has ended.
   */
  private terminate(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    signalChannel(this.channel, 'TERM');
    this.killGroup('TERM');
    if (this.out) {
      this.channel.unpipe(this.out);
      this.destroyStdout(err);
    }
    this.channel.resume();
    this.channel.stderr.resume();
    this.graceTimer = setTimeout(() => {
      if (this.closed) return;
      signalChannel(this.channel, 'KILL');
      this.killGroup('KILL');
      this.channel.close();
      // If the peer never answers the close, give the slot back anyway.
      this.closeConfirmTimer = setTimeout(() => this.cleanup(), CLOSE_CONFIRM_MS);
      this.closeConfirmTimer.unref();
    }, KILL_GRACE_MS);
    this.graceTimer.unref();
    this.rejectDone(err);
  }

  /** Kill the remote process group over a second channel (works where channel signals do not), once its pgid is known. */
  private killGroup(sig: 'TERM' | 'KILL'): void {
    if (this.pgid === undefined || this.pgid <= 1 || this.closed) return;
    killRemoteGroup(this.lease, this.pgid, sig);
  }

  /** End a streamed stdout early; the error only goes to a reader that listens for one (else it would be unhandled). */
  private destroyStdout(err: Error): void {
    this.out?.destroy(this.out.listenerCount('error') > 0 ? err : undefined);
  }

  private onClose(): void {
    this.closed = true;
    this.cleanup();
    const heldBack = this.marker.flush();
    if (heldBack) this.keepStderr(heldBack);
    if (this.settled) return;
    this.settled = true;
    const durationMs = Date.now() - this.t0;
    const { code, signal } = this.exit;
    if (code === undefined) {
      const err = this.lostConnectionError();
      this.destroyStdout(err);
      this.rejectDone(err);
      return;
    }
    this.resolveDone({
      stdout: this.out ? '' : Buffer.concat(this.outChunks).toString('utf8'),
      stderr: this.errTail.text(),
      code,
      ...(signal !== undefined ? { signal } : {}),
      durationMs,
      stdoutBytes: this.stdoutBytes,
      stderrBytes: this.stderrBytes,
    });
  }

  private lostConnectionError(): SshConnectionError {
    const cause = this.lease.connectionError();
    const lost = this.lease.isClosed() || cause;
    const what = lost ? `connection lost${cause ? ` (${cause.message})` : ''}` : 'channel closed without an exit status';
    const t = this.target;
    return new SshConnectionError(t.name, t.address, t.port ?? 22, 'lost', `ssh ${describeTarget(t)}: ${what} while running: ${showCommand(this.command)}`, { cause });
  }

  private failure(what: string, cause?: Error): SshCommandError {
    return new SshCommandError(this.target, this.command, `ssh ${describeTarget(this.target)}: ${what}: ${showCommand(this.command)}`, cause ? { cause } : undefined);
  }

  /** Timers off, a piped input unhooked, the channel slot given back. */
  private cleanup(): void {
    this.stop.disarm();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    if (this.closeConfirmTimer) clearTimeout(this.closeConfirmTimer);
    const input = this.opts.input;
    if (input && typeof input === 'object' && !Buffer.isBuffer(input)) input.unpipe(this.channel);
    this.lease.release();
  }
}
