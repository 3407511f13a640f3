/** Lab hosts' processes as the fault tests see them, a poll with a bound, and a worker process to kill. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { LabHostState } from '../../lab/lab';
import { allPids, processNs } from '../../lab/sys';
import type { TestTemporal } from './temporal';

const CLI = path.join(__dirname, '../../bin/esxi-zfs.js');

/** A /proc file of `pid`; empty once the process is gone. */
export function procFile(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** The processes of this lab host whose command line matches (lab hosts share the pid namespace). */
export function pidsOn(host: LabHostState, commandLine: RegExp): number[] {
  return allPids().filter((pid) => processNs(pid, 'mnt') === host.ns.mnt && commandLine.test(procFile(pid, 'cmdline').split('\0').join(' ')));
}

/** Polls `probe` until it gives a value; fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000, everyMs = 20): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `esxi-zfs worker` as an operator runs it, on the test's dev server; `freeze` SIGSTOPs it, `kill` SIGKILLs it. */
export function spawnWorker(temporal: TestTemporal): { freeze(): void; kill(): Promise<void> } {
  const worker = spawn(CLI, ['worker'], {
    env: { ...process.env, TEMPORAL_ADDRESS: temporal.server.address, TEMPORAL_NAMESPACE: temporal.server.namespace },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  return {
    freeze: () => void worker.kill('SIGSTOP'),
    async kill() {
      worker.kill('SIGKILL');
      await exited;
    },
  };
}
