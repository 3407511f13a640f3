/**
 * Running commands over the pooled SSH connections.
 *
 * - `exec(pool, target, argv)` runs `shellCommand(argv)`: every argument is quoted by the one
 *   quoting function, so values (datasets, paths, hosts) can never become shell syntax.
 * - `execTrustedScript(pool, target, sh\`...\`)` runs a multi-command script (pipelines, `&&`).
 *   It takes a `ShellScript`, which only the `sh` tag in quote.ts can make, so a hand-built string
 *   does not type-check.
 * - A non-zero exit is a result, not an exception (`code`); `execOk` throws `RemoteCommandError`.
 * - `timeoutMs` bounds the whole call (waiting for a channel slot, connecting, running). On timeout
 *   or abort the call rejects at once and the remote command's process group gets SIGTERM, both as
 *   an SSH channel `signal` request and as `kill -TERM -- -PGID` over a second channel (OpenSSH
 *   ignores channel signals for root sessions; see PGID_PREFIX). After `killGraceMs` (default 2 s)
 *   SIGKILL follows the same two ways and the channel is closed.
 * - `execStream` hands stdout over as a Readable with backpressure, for large outputs.
 * - `heartbeatingProgress()` turns progress into Temporal activity heartbeats and the activity's
 *   cancellation into the abort signal.
 */
import { Transform, type Readable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { ShellScript, sh, shellCommand } from '../../core/quote';
import { SshConnectionError, describeTarget, type ChannelLease, type SshPool, type SshTarget } from './connection';

export type ExecProgress = { stdoutBytes: number; stderrBytes: number; lastLine?: string };

export type ExecOptions = {
  /** Whole-call deadline in ms (slot wait + connect + run). Default: none. */
  timeoutMs?: number;
  /** Sent to the command's stdin, then EOF. Without it stdin gets EOF at once. */
  input?: string | Buffer | Readable;
  /** Called every `progressIntervalMs` while the command runs (even without new output), and once at the end. */
  onProgress?: (p: ExecProgress) => void;
  progressIntervalMs?: number;
  /** Max bytes of stdout kept by `exec` (default 32 MiB; beyond it the command is terminated and the call rejects).
   *  stderr keeps its last `maxBuffer` bytes and never fails the call. */
  maxBuffer?: number;
  /** Abort = cancel: the remote process is signalled and the call rejects with `ExecAbortedError`. */
  signal?: AbortSignal;
  /** Time between SIGTERM and SIGKILL + channel close after timeout/abort (default 2000 ms). */
  killGraceMs?: number;
  /**
   * Prefix the command with a line that reports the remote shell's process group (stripped from
   * stderr), so timeout/abort can `kill -- -PGID` it (default true). Set false for accounts with a
   * forced command (authorized_keys `command=`), which would see the prefix in SSH_ORIGINAL_COMMAND;
   * then only the channel signal and the channel close remain to stop the command.
   */
  trackProcessGroup?: boolean;
};

export type ExecResult = {
  stdout: string;
  stderr: string;
  /** Exit status; null when the process was killed by a signal. */
  code: number | null;
  /** `SIGTERM` etc. when killed by a signal. */
  signal?: string;
  /** Wall time of the whole call, ms. */
  durationMs: number;
};

export type ExecStreamResult = Omit<ExecResult, 'stdout'> & { stdoutBytes: number; stderrBytes: number };

export type ExecStreamHandle = {
  /** The command's stdout. Read it to the end (or destroy it: that terminates the command). */
  stdout: Readable;
  /** Settles when the command has finished; rejects on timeout, abort, lost connection. */
  done: Promise<ExecStreamResult>;
};

export type Command = readonly string[] | ShellScript;

const DEFAULT_MAX_BUFFER = 32 * 1024 * 1024;
const DEFAULT_PROGRESS_MS = 1000;
const DEFAULT_KILL_GRACE_MS = 2000;

// ------------------------------------------------------------------------------------------------
// Errors. All name the host (name and address) and the command.

export function showCommand(command: string, max = 300): string {
  const oneLine = command.replace(/\n/g, '\\n');
  return oneLine.length > max ? oneLine.slice(0, max) + '…' : oneLine;
}

function tail(text: string, max: number): string {
  return text.length > max ? '…' + text.slice(text.length - max) : text;
}

/** Base for failures of one command on one host. */
export class SshCommandError extends Error {
  readonly host: string;
  readonly address: string;
  readonly command: string;
  constructor(target: SshTarget, command: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SshCommandError';
    this.host = target.name;
    this.address = target.address;
    this.command = command;
  }
}

export class ExecTimeoutError extends SshCommandError {
  constructor(
    target: SshTarget,
    command: string,
    readonly timeoutMs: number,
    started: boolean,
  ) {
    super(
      target,
      command,
      `ssh ${describeTarget(target)}: timed out after ${timeoutMs} ms ` +
        `${started ? '(remote command sent SIGTERM)' : '(before the command started)'}: ${showCommand(command)}`,
    );
    this.name = 'ExecTimeoutError';
  }
}

/** Cancelled through the abort signal. Named `AbortError` so a cancelled Temporal activity reports as cancelled. */
export class ExecAbortedError extends SshCommandError {
  constructor(target: SshTarget, command: string, reason: unknown, started: boolean) {
    const why = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
    super(
      target,
      command,
      `ssh ${describeTarget(target)}: cancelled (${why}) ${started ? '(remote command sent SIGTERM)' : '(before the command started)'}: ${showCommand(command)}`,
      { cause: reason },
    );
    this.name = 'AbortError';
  }
}

export class ExecMaxBufferError extends SshCommandError {
  constructor(target: SshTarget, command: string, readonly maxBuffer: number) {
    super(target, command, `ssh ${describeTarget(target)}: stdout exceeded maxBuffer (${maxBuffer} bytes; use execStream for large output), command terminated: ${showCommand(command)}`);
    this.name = 'ExecMaxBufferError';
  }
}

/** The command ran and failed (non-zero exit or killed by a signal). */
export class RemoteCommandError extends SshCommandError {
  readonly code: number | null;
  readonly signal?: string;
  readonly stderrTail: string;
  constructor(target: SshTarget, command: string, result: { code: number | null; signal?: string; stderr: string }) {
    const stderrTail = tail(result.stderr.trim(), 2000);
    const status = result.code === null ? `was killed by ${result.signal ?? 'a signal'}` : `exited with code ${result.code}`;
    super(target, command, `ssh ${describeTarget(target)}: command ${status}: ${showCommand(command)}${stderrTail ? `\nstderr: ${tail(stderrTail, 600)}` : ''}`);
    this.name = 'RemoteCommandError';
    this.code = result.code;
    if (result.signal !== undefined) this.signal = result.signal;
    this.stderrTail = stderrTail;
  }
}

// ------------------------------------------------------------------------------------------------
// Public API

/** Run one command (argv, each element quoted) and collect its output. Non-zero exit is returned, not thrown. */
export async function exec(pool: SshPool, target: SshTarget, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return runBuffered(pool, target, commandText(argv), opts);
}

/**
 * Run a multi-command script. Only a `ShellScript` (made by the `sh` tag: literal source text plus
 * quoted values) is accepted — never a hand-assembled string.
 */
export async function execTrustedScript(pool: SshPool, target: SshTarget, script: ShellScript, opts: ExecOptions = {}): Promise<ExecResult> {
  return runBuffered(pool, target, commandText(script), opts);
}

/** Like exec / execTrustedScript, but a non-zero exit (or death by signal) throws `RemoteCommandError`. */
export async function execOk(pool: SshPool, target: SshTarget, command: Command, opts: ExecOptions = {}): Promise<ExecResult> {
  const text = commandText(command);
  const result = await runBuffered(pool, target, text, opts);
  if (result.code !== 0) throw new RemoteCommandError(target, text, result);
  return result;
}

/** Run a command whose stdout is consumed as a stream (large outputs, `zfs send`). */
export async function execStream(pool: SshPool, target: SshTarget, command: Command, opts: ExecOptions = {}): Promise<ExecStreamHandle> {
  const running = await start(pool, target, commandText(command), opts, true);
  const done = running.done.then(({ stdout: _unused, ...rest }) => rest);
  // A reader that saw the failure on stdout may never await `done`: that must not crash the worker.
  done.catch(() => undefined);
  return { stdout: running.stdout!, done };
}

function commandText(command: Command): string {
  if (command instanceof ShellScript) return command.text;
  if (!Array.isArray(command)) {
    throw new TypeError('ssh exec: the command must be an argv array (each element is quoted) or a ShellScript from the sh`` tag');
  }
  return shellCommand(command);
}

async function runBuffered(pool: SshPool, target: SshTarget, command: string, opts: ExecOptions): Promise<ExecResult> {
  const running = await start(pool, target, command, opts, false);
  const r = await running.done;
  return { stdout: r.stdout, stderr: r.stderr, code: r.code, ...(r.signal !== undefined ? { signal: r.signal } : {}), durationMs: r.durationMs };
}

// ------------------------------------------------------------------------------------------------
// The engine

type Raw = ExecResult & { stdoutBytes: number; stderrBytes: number };
type Running = { stdout?: Readable; done: Promise<Raw> };

/** Keeps the last complete non-empty line of a stream, for progress reports. */
class LastLine {
  private partial: Buffer = Buffer.alloc(0);
  line: string | undefined;
  push(chunk: Buffer): void {
    const nl = chunk.lastIndexOf(10);
    if (nl === -1) {
      this.partial = keepTail(Buffer.concat([this.partial, chunk]), 1024);
      return;
    }
    const prev = chunk.lastIndexOf(10, nl - 1);
    const buf = prev === -1 ? Buffer.concat([this.partial, chunk.subarray(0, nl)]) : chunk.subarray(prev + 1, nl);
    const text = clean(buf);
    if (text) this.line = text;
    this.partial = keepTail(chunk.subarray(nl + 1), 1024);
  }
}

function keepTail(b: Buffer, max: number): Buffer {
  return b.length > max ? b.subarray(b.length - max) : b;
}

function clean(buf: Buffer): string {
  const s = keepTail(buf, 400).toString('utf8');
  const afterCr = s.split('\r').filter((x) => x.trim()).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  return afterCr.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').trim().slice(0, 200);
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

type ChannelInternals = {
  outgoing?: { id?: number; state?: string };
  _client?: { _protocol?: { signal?: (id: number, signal: string) => void } };
};

/**
 * Send a signal request on a session channel. ssh2's `channel.signal()` silently does nothing once
 * the channel's stdin has been ended (outgoing state 'eof'), yet SSH allows channel requests until
 * close — and every exec ends stdin early. So fall back to ssh2's protocol writer in that state.
 */
export function signalChannel(channel: ClientChannel, sig: 'TERM' | 'KILL' | 'INT' | 'HUP'): boolean {
  const c = channel as unknown as ChannelInternals;
  const state = c.outgoing?.state;
  try {
    if (state === 'open' && channel.writable) {
      channel.signal(sig);
      return true;
    }
    const proto = c._client?._protocol;
    if ((state === 'open' || state === 'eof') && proto && typeof proto.signal === 'function' && typeof c.outgoing?.id === 'number') {
      proto.signal(c.outgoing.id, sig);
      return true;
    }
  } catch {
    /* connection gone */
  }
  return false;
}

/**
 * Every command is prefixed with a line that prints the remote shell's PID to stderr (the line is
 * stripped from the stderr we return). sshd makes that shell a session and process-group leader, so
 * on timeout/abort `kill -TERM -- -PGID` over a second channel stops the whole command (pipelines
 * included). Needed because OpenSSH refuses channel `signal` requests for root sessions
 * ("session signalling requires privilege separation": root sessions are not privilege-separated)
 * and older servers (SunSSH) ignore them. The channel signal is still sent too.
 */
const PGID_MARKER = 'esxi-zfs-pgid:';
const PGID_PREFIX = `printf '${PGID_MARKER}%s\\n' "$$" >&2\n`;

/**
 * The one way a remote process group is stopped: TERM, then CONT (a stopped process would never see
 * the TERM: shells do the same for stopped jobs), up to `graceMs` for it to end, then KILL. With
 * `leaderMatching`, only while `pgid` still leads a group whose leader's command line contains it
 * (a pid remembered from an earlier attempt may belong to another process by now).
 */
export function stopGroupScript(pgid: number, opts: { graceMs?: number; leaderMatching?: string } = {}): ShellScript {
  const group = `-${pgid}`;
  const pid = String(pgid);
  const guard = opts.leaderMatching
    ? sh`[ "$(ps -o pgid= -p ${pid} | tr -d ' ')" = ${pid} ] && ps -o args= -p ${pid} | grep -qF -- ${opts.leaderMatching} || exit 0
`
    : sh``;
  return sh`${guard}kill -TERM -- ${group} 2>/dev/null; kill -CONT -- ${group} 2>/dev/null
n=0
while kill -0 -- ${group} 2>/dev/null && [ $n -lt ${String(Math.ceil((opts.graceMs ?? 0) / 100))} ]; do sleep 0.1; n=$((n + 1)); done
kill -KILL -- ${group} 2>/dev/null; true`;
}

/** Stops a process group on a host (`stopGroupScript`); returns once it has ended or was killed. */
export async function stopProcessGroup(pool: SshPool, target: SshTarget, pgid: number, opts: { graceMs?: number; leaderMatching?: string } = {}): Promise<void> {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) return; // never `kill -- -1`
  await execTrustedScript(pool, target, stopGroupScript(pgid, opts), { timeoutMs: (opts.graceMs ?? 0) + 15_000 });
}

/** The engine's stop, on the lease of the command it stops: TERM now (KILL after `graceMs`), or KILL now. */
function killRemoteGroup(lease: ChannelLease, pgid: number, sig: 'TERM' | 'KILL', graceMs: number): void {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) return; // never `kill -- -1`
  try {
    lease.client.exec(stopGroupScript(pgid, { graceMs: sig === 'KILL' ? 0 : graceMs }).text, (err, channel) => {
      if (err || !channel) return; // best effort: the channel close below still ends the session
      channel.resume();
      channel.stderr.resume();
      channel.end();
    });
  } catch {
    /* connection gone */
  }
}

/** A channel's exit status, recorded by a listener attached the moment the channel exists. */
type ExitRecord = { code?: number | null; signal?: string };

function openChannel(lease: ChannelLease, command: string, signal: AbortSignal, trackPgid: boolean): Promise<{ channel: ClientChannel; exit: ExitRecord }> {
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
          // We stopped waiting (timeout/abort): make sure the command does not run on.
          if (channel) {
            signalChannel(channel, 'TERM');
            if (trackPgid) {
              channel.stderr.once('data', (chunk: Buffer) => {
                const m = /^esxi-zfs-pgid:(\d+)\n/.exec(chunk.toString('latin1'));
                if (m) killRemoteGroup(lease, Number(m[1]), 'TERM', DEFAULT_KILL_GRACE_MS);
                channel.close();
              });
              setTimeout(() => channel.close(), 2000).unref();
            } else {
              channel.close();
            }
            channel.resume();
            channel.stderr.resume();
          }
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

async function start(pool: SshPool, target: SshTarget, command: string, opts: ExecOptions, streaming: boolean): Promise<Running> {
  const t0 = Date.now();
  const maxBuffer = opts.maxBuffer ?? DEFAULT_MAX_BUFFER;
  const killGraceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const trackPgid = opts.trackProcessGroup !== false;

  // One internal controller for timeout and the caller's abort signal.
  const ac = new AbortController();
  let timedOut = false;
  let started = false;
  const stopError = (): SshCommandError =>
    timedOut ? new ExecTimeoutError(target, command, opts.timeoutMs!, started) : new ExecAbortedError(target, command, opts.signal?.reason, started);
  if (opts.signal?.aborted) throw stopError();
  const onUserAbort = () => ac.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onUserAbort, { once: true });
  const timer =
    opts.timeoutMs !== undefined && opts.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          ac.abort(new Error('timeout'));
        }, opts.timeoutMs)
      : undefined;
  const disarm = () => {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onUserAbort);
  };

  // Slot + connection + channel. One retry when the pooled connection turned out to be dead
  // before the command was sent (safe: nothing ran).
  let lease: ChannelLease | undefined;
  let channel: ClientChannel | undefined;
  let exit: ExitRecord = {};
  for (let attempt = 1; !channel; attempt++) {
    try {
      lease = await pool.acquire(target, ac.signal);
    } catch (e) {
      disarm();
      throw ac.signal.aborted ? stopError() : e;
    }
    try {
      ({ channel, exit } = await openChannel(lease, (trackPgid ? PGID_PREFIX : '') + command, ac.signal, trackPgid));
    } catch (e) {
      const dead = lease.isClosed();
      lease.release();
      if (ac.signal.aborted) {
        disarm();
        throw stopError();
      }
      if (dead && attempt === 1) continue;
      disarm();
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
  started = true;
  const ch = channel;
  const theLease = lease!;

  let stdoutBytes = 0;
  let stderrBytes = 0;
  const outChunks: Buffer[] = [];
  const errTail = new TailBuffer(maxBuffer);
  const outLine = new LastLine();
  const errLine = new LastLine();
  let lastLineFrom: LastLine | undefined;
  let settled = false;
  let closed = false;
  let graceTimer: NodeJS.Timeout | undefined;
  let hardTimer: NodeJS.Timeout | undefined;
  let progressTimer: NodeJS.Timeout | undefined;

  const snapshot = (): ExecProgress => {
    const line = lastLineFrom?.line;
    return line === undefined ? { stdoutBytes, stderrBytes } : { stdoutBytes, stderrBytes, lastLine: line };
  };
  const report = () => {
    if (!opts.onProgress) return;
    try {
      opts.onProgress(snapshot());
    } catch {
      /* a progress callback must not break the command */
    }
  };
  if (opts.onProgress) progressTimer = setInterval(report, opts.progressIntervalMs ?? DEFAULT_PROGRESS_MS);

  let resolveDone!: (r: Raw) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<Raw>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  // A stream consumer may never look at `done` when stdout already failed; don't crash the process for it.
  done.catch(() => undefined);

  let out: Transform | undefined;
  if (streaming) {
    out = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        stdoutBytes += chunk.length;
        cb(null, chunk);
      },
    });
    out.on('close', () => {
      // The consumer destroyed stdout before the end: stop the command. (A stream read to its end
      // closes too, possibly before the channel does: that is no reason to stop anything.)
      if (!closed && !settled && !out!.readableEnded) terminate(new SshCommandError(target, command, `ssh ${describeTarget(target)}: stdout closed by the reader before the command finished: ${showCommand(command)}`));
    });
    ch.pipe(out);
  } else {
    ch.on('data', (chunk: Buffer) => {
      if (settled) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxBuffer) return terminate(new ExecMaxBufferError(target, command, maxBuffer));
      outChunks.push(chunk);
      outLine.push(chunk);
      lastLineFrom = outLine;
    });
  }
  // The first stderr line is our process-group marker (see PGID_PREFIX); strip it.
  let markerHead: Buffer | undefined = trackPgid ? Buffer.alloc(0) : undefined;
  const onStderr = (chunk: Buffer) => {
    stderrBytes += chunk.length;
    if (settled) return;
    errTail.push(chunk);
    errLine.push(chunk);
    lastLineFrom = errLine;
  };
  ch.stderr.on('data', (chunk: Buffer) => {
    if (markerHead === undefined) return onStderr(chunk);
    const head: Buffer = Buffer.concat([markerHead, chunk]);
    const nl = head.indexOf(10);
    const isMarker = head.subarray(0, Math.min(head.length, PGID_MARKER.length)).toString('latin1') === PGID_MARKER.slice(0, Math.min(head.length, PGID_MARKER.length));
    if (!isMarker || (nl === -1 && head.length > 64)) {
      markerHead = undefined; // no marker (forced command, exotic shell): plain stderr
      return onStderr(head);
    }
    if (nl === -1) {
      markerHead = head;
      return;
    }
    markerHead = undefined;
    const m = /^esxi-zfs-pgid:(\d+)$/.exec(head.subarray(0, nl).toString('latin1'));
    if (m && Number(m[1]) > 1) {
      pgid = Number(m[1]);
      if (settled && !closed) remoteKill('TERM'); // terminated before we learnt the group
    }
    if (head.length > nl + 1) onStderr(head.subarray(nl + 1));
  });

  const cleanup = () => {
    disarm();
    if (progressTimer) clearInterval(progressTimer);
    if (graceTimer) clearTimeout(graceTimer);
    if (hardTimer) clearTimeout(hardTimer);
    if (opts.input && typeof opts.input === 'object' && !Buffer.isBuffer(opts.input)) (opts.input as Readable).unpipe(ch);
    theLease.release();
  };

  let pgid: number | undefined;
  /** kill the remote process group over a second channel (works where channel signals do not). */
  function remoteKill(sig: 'TERM' | 'KILL'): void {
    if (pgid === undefined || pgid <= 1 || closed) return;
    killRemoteGroup(theLease, pgid, sig, killGraceMs);
  }

  function terminate(err: Error): void {
    if (settled) return;
    settled = true;
    if (progressTimer) clearInterval(progressTimer);
    signalChannel(ch, 'TERM');
    remoteKill('TERM');
    // Keep draining so ssh2 can emit 'close' (it waits for the readable side to end).
    if (out) {
      ch.unpipe(out);
      if (out.listenerCount('error') > 0) out.destroy(err);
      else out.destroy();
    }
    ch.resume();
    ch.stderr.resume();
    graceTimer = setTimeout(() => {
      if (closed) return;
      signalChannel(ch, 'KILL');
      remoteKill('KILL');
      ch.close();
      // If the peer never answers the close, give the slot back anyway.
      hardTimer = setTimeout(cleanup, 5000);
      hardTimer.unref();
    }, killGraceMs);
    graceTimer.unref();
    rejectDone(err);
  }

  if (ac.signal.aborted) terminate(stopError());
  else ac.signal.addEventListener('abort', () => terminate(stopError()), { once: true });

  ch.on('close', () => {
    closed = true;
    cleanup();
    if (markerHead !== undefined && markerHead.length > 0) {
      // stderr ended while it still looked like the start of a marker: it was plain output.
      const rest = markerHead;
      markerHead = undefined;
      onStderr(rest);
    }
    if (settled) return;
    settled = true;
    const durationMs = Date.now() - t0;
    const { code: exitCode, signal: exitSignal } = exit;
    if (exitCode === undefined) {
      const lost = theLease.isClosed() || theLease.connectionError();
      const cause = theLease.connectionError();
      const err = new SshConnectionError(
        target.name,
        target.address,
        target.port ?? 22,
        'lost',
        `ssh ${describeTarget(target)}: ${lost ? `connection lost${cause ? ` (${cause.message})` : ''}` : 'channel closed without an exit status'} while running: ${showCommand(command)}`,
        { cause },
      );
      if (out) out.destroy(out.listenerCount('error') > 0 ? err : undefined);
      rejectDone(err);
      return;
    }
    report();
    resolveDone({
      stdout: streaming ? '' : Buffer.concat(outChunks).toString('utf8'),
      stderr: errTail.text(),
      code: exitCode,
      ...(exitSignal !== undefined ? { signal: exitSignal } : {}),
      durationMs,
      stdoutBytes,
      stderrBytes,
    });
  });

  // stdin
  const input = opts.input;
  if (input === undefined) ch.end();
  else if (typeof input === 'string' || Buffer.isBuffer(input)) ch.end(input);
  else {
    input.once('error', (e) => terminate(new SshCommandError(target, command, `ssh ${describeTarget(target)}: input stream failed (${e.message}): ${showCommand(command)}`, { cause: e })));
    input.pipe(ch);
  }

  return { stdout: out, done };
}
