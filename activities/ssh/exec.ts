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
 *   ignores channel signals for root sessions; see PGID_PREFIX). After 2 s (KILL_GRACE_MS) SIGKILL
 *   follows the same two ways and the channel is closed.
 * - `exec` keeps at most 32 MiB of stdout (MAX_BUFFER): beyond it the command is terminated and the
 *   call rejects with `ExecMaxBufferError`. stderr keeps its last 32 MiB and never fails the call.
 * - `execStream` hands stdout over as a Readable with backpressure, for large outputs.
 */
import { ShellScript, shellCommand } from '../../core/quote';
import type { SshPool } from './connection';
import type { SshTarget } from './target';
import { type Command, type ExecOptions, type ExecResult, type ExecStreamHandle, RemoteCommandError } from './exec-types';
import { stopGroupScript } from './process-group';
import { start } from './engine';

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

/** Stops a process group on a host (`stopGroupScript`); returns once it has ended or was killed. */
export async function stopProcessGroup(pool: SshPool, target: SshTarget, pgid: number, opts: { graceMs?: number; leaderMatching?: string } = {}): Promise<void> {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) return; // never `kill -- -1`
  await execTrustedScript(pool, target, stopGroupScript(pgid, opts), { timeoutMs: (opts.graceMs ?? 0) + 15_000 });
}
