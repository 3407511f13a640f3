/**
 * The seam between activities and the way commands reach a storage VM. Activities are written
 * against `Transport`: `sshTransport(pool)` is the one the worker uses; another (the vSphere API's
 * guest operations, for a VM with no network yet) can take its place without touching activities,
 * and tests use a recording fake (test/helpers/recording-transport.ts).
 */
import type { StorageHostRef } from '../core/hosts';
import { modeBits, parseFileFacts, readFileScript, writeFileScript, type FileFacts, type FileSpec } from '../core/files';
import type { ShellScript } from '../core/quote';
import {
  exec, execOk, execStream, execTrustedScript, stopProcessGroup,
  type Command, type ExecOptions, type ExecResult, type ExecStreamHandle, type SshPool,
} from './ssh';

/** What `ensureFile` did: wrote the content, or fixed owner and mode (in words), or nothing. */
export interface FileWrite {
  wrote: boolean;
  fixes: string[];
}

export interface Transport {
  /** argv, each element quoted; a non-zero exit is returned, not thrown. */
  run(host: StorageHostRef, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** A script made with the `sh` tag (literal text, quoted values); a non-zero exit is returned. */
  runScript(host: StorageHostRef, script: ShellScript, opts?: ExecOptions): Promise<ExecResult>;
  /** run / runScript where a non-zero exit throws, naming the host and the command. */
  runOk(host: StorageHostRef, command: Command, opts?: ExecOptions): Promise<ExecResult>;
  /** A command whose stdout is read as a stream (large outputs, `zfs send`). */
  stream(host: StorageHostRef, command: Command, opts?: ExecOptions): Promise<ExecStreamHandle>;
  /** A regular file's content, owner and mode, or `{ exists: false }`. */
  readFile(host: StorageHostRef, path: string): Promise<FileFacts>;
  /**
   * Replaces `path` with `content` atomically (temp file in the same folder, owner, mode, the spec's
   * check, rename) without reading it first: for a caller whose plan read it and decided to write.
   */
  writeFile(host: StorageHostRef, path: string, content: string, spec: FileSpec & { uid: number }): Promise<void>;
  /**
   * Makes `path` hold `content` with the spec's owner and mode: replaced atomically (temp file in
   * the same folder, owner, mode, the spec's check, rename) when the content differs, else only
   * owner and mode fixed. `current` is what the caller already read (read again when absent).
   */
  ensureFile(host: StorageHostRef, path: string, content: string, spec: FileSpec & { uid: number }, current?: FileFacts): Promise<FileWrite>;
  /** Stops a process group (TERM, CONT, `graceMs`, KILL); with `leaderMatching` only while its leader's command line has it. */
  stopProcessGroup(host: StorageHostRef, pgid: number, opts?: { graceMs?: number; leaderMatching?: string }): Promise<void>;
  /** Closes the connection kept to `host`, so the next call opens (and authenticates) a new one. */
  disconnect(host: StorageHostRef): Promise<void>;
}

const FILE_TIMEOUT_MS = 60_000;

export function sshTransport(pool: SshPool): Transport {
  const transport: Transport = {
    run: (host, argv, opts) => exec(pool, host, argv, opts),
    runScript: (host, script, opts) => execTrustedScript(pool, host, script, opts),
    runOk: (host, command, opts) => execOk(pool, host, command, opts),
    stream: (host, command, opts) => execStream(pool, host, command, opts),
    stopProcessGroup: (host, pgid, opts) => stopProcessGroup(pool, host, pgid, opts),
    disconnect: (host) => pool.close(host),
    async readFile(host, path) {
      return parseFileFacts((await execOk(pool, host, readFileScript(path), { timeoutMs: FILE_TIMEOUT_MS })).stdout);
    },
    async writeFile(host, path, content, spec) {
      await execOk(pool, host, writeFileScript(path, spec), { timeoutMs: FILE_TIMEOUT_MS, input: content });
    },
    async ensureFile(host, path, content, spec, current) {
      const now = current ?? (await transport.readFile(host, path));
      if (!now.exists || now.content !== content) {
        await transport.writeFile(host, path, content, spec);
        return { wrote: true, fixes: [] };
      }
      const fixes: string[] = [];
      if (now.uid !== spec.uid) {
        await execOk(pool, host, ['chown', spec.owner, path], { timeoutMs: FILE_TIMEOUT_MS });
        fixes.push(`${path}: owner set to ${spec.owner}`);
      }
      if (modeBits(now.mode) !== parseInt(spec.mode, 8)) {
        await execOk(pool, host, ['chmod', spec.mode, path], { timeoutMs: FILE_TIMEOUT_MS });
        fixes.push(`${path}: mode set to ${spec.mode} (was ${now.mode})`);
      }
      return { wrote: false, fixes };
    },
  };
  return transport;
}
