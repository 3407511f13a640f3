/**
 * Running external commands for the lab, on this machine or inside a lab host (labExec): always an
 * argv array (no shell), always with a timeout, and a small, explicit environment so the worker's
 * own variables never leak into a lab host.
 */
import { spawn } from 'node:child_process';

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** The environment lab hosts' commands and daemons get: nothing of the caller's but the basics. */
export const HOST_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
  LOGNAME: 'root',
  USER: 'root',
};

/** Runs argv; resolves with the exit code (128+signal when killed); rejects only if it cannot start. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd ?? '/',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => undefined); // the command may exit without reading its input
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: timedOut ? `${stderr}\n[timed out after ${opts.timeoutMs ?? 120_000} ms]` : stderr,
        code: code ?? 128 + signalNumber(signal),
      });
    });
    child.stdin.end(opts.input ?? '');
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return (signal && numbers[signal]) ?? 0;
}

export class CommandError extends Error {
  constructor(readonly argv: readonly string[], readonly result: ExecResult) {
    super(`${argv.join(' ')} failed (exit ${result.code}): ${(result.stderr || result.stdout).trim().slice(0, 2000)}`);
    this.name = 'CommandError';
  }
}

/** Runs argv and returns stdout; throws CommandError on a non-zero exit. */
export async function must(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const result = await run(cmd, args, opts);
  if (result.code !== 0) throw new CommandError([cmd, ...args], result);
  return result.stdout;
}

/** The namespace files of a host: what nsenter enters. */
export interface HostNs {
  mountNs: string;
  utsNs?: string;
  netns: string;
}

export function nsenterArgs(h: HostNs): string[] {
  return [`--mount=${h.mountNs}`, ...(h.utsNs ? [`--uts=${h.utsNs}`] : []), `--net=/run/netns/${h.netns}`, '--'];
}

/** Runs argv inside the host's mount, UTS and network namespaces (as root, via nsenter). */
export function labExec(host: HostNs, argv: string[], opts: { input?: string } = {}): Promise<ExecResult> {
  return run('nsenter', [...nsenterArgs(host), ...argv], { input: opts.input, env: HOST_ENV });
}

/** Timing lines on stderr, only with EZLAB_DEBUG set. */
export const debug = (message: string): void => {
  if (process.env.EZLAB_DEBUG) process.stderr.write(`[lab ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
};
