/** What running a command over SSH takes and gives back, and how it fails: every error names the host and the command. */
import type { Readable } from 'node:stream';
import type { ShellScript } from '../../core/quote';
import { describeTarget, type SshTarget } from './target';

export type ExecOptions = {
  /** Whole-call deadline in ms (slot wait + connect + run). Default: none. */
  timeoutMs?: number;
  /** Sent to the command's stdin, then EOF. Without it stdin gets EOF at once. */
  input?: string | Buffer | Readable;
  /** Abort = cancel: the remote process is signalled and the call rejects with `ExecAbortedError`. */
  signal?: AbortSignal;
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
