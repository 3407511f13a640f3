/**
 * What the benchmark starts and must stop, whatever happens: the lab, the dev server, the worker,
 * the RSS sampler, the client connection and a temporary directory. `cleanup` stops them all (once,
 * however often it is called); `stopOnSignals` runs it on Ctrl-C and on an error nobody caught.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Connection } from '@temporalio/client';
import { labDown, type LabState } from '../../lab/lab';
import type { DevServer } from '../../workers/dev-server';
import { log } from './log';
import type { RssSampler, WorkerProcess } from './processes';

export class BenchResources {
  lab: LabState | undefined;
  server: DevServer | undefined;
  worker: WorkerProcess | undefined;
  sampler: RssSampler | undefined;
  connection: Connection | undefined;
  tmpDir: string | undefined;
  private cleaning: Promise<void> | undefined;

  /** `logsDir`: where to keep the logs (--logs), if anywhere. */
  constructor(readonly labDir: string, private readonly logsDir: string | undefined) {}

  cleanup(): Promise<void> {
    this.cleaning ??= this.release();
    return this.cleaning;
  }

  private async release(): Promise<void> {
    this.sampler?.stop();
    const step = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (error) {
        log(`cleanup: ${what} failed: ${(error as Error).message}`);
      }
    };
    await step('stopping the worker', async () => this.worker?.stop());
    await step('stopping the dev server', async () => this.server?.stop());
    const logsDir = this.logsDir;
    if (logsDir) await step('keeping the logs', async () => this.keepLogs(logsDir));
    await step('lab down', () => labDown({ dir: this.labDir }));
    await step('closing the client', async () => this.connection?.close());
    if (this.tmpDir) fs.rmSync(this.tmpDir, { recursive: true, force: true });
    log('cleaned up: worker and dev server stopped, lab down');
  }

  private keepLogs(logsDir: string): void {
    const dir = path.resolve(logsDir);
    fs.mkdirSync(dir, { recursive: true });
    const keep = (file: string | undefined, name: string) => {
      if (file && fs.existsSync(file)) fs.copyFileSync(file, path.join(dir, name));
    };
    keep(this.worker?.logFile, 'worker.log');
    keep(this.server?.logFile, 'temporal.log');
    for (const h of this.lab?.hosts ?? []) {
      keep(h.logs.sshd, `${h.name}-sshd.log`);
      keep(h.logs.zfsFuse, `${h.name}-zfs-fuse.log`);
    }
    log(`logs kept in ${dir}`);
  }
}

/**
 * Cleans up and exits on SIGINT and SIGTERM (130), and on an uncaught exception or unhandled
 * rejection (1; 130 once interrupted). Returns whether a signal came.
 */
export function stopOnSignals(resources: BenchResources): () => boolean {
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return; // a second Ctrl-C: the cleanup is already under way
      interrupted = true;
      log(`${signal}: stopping everything`);
      void resources.cleanup().finally(() => process.exit(130));
    });
  }
  // While stopping, pending client calls fail (the server is going away), some from timers: never let
  // one of them end the process before the lab is down.
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.on(event, (error: unknown) => {
      if (!interrupted) process.stderr.write(`bench: ${event}: ${(error as Error)?.stack ?? error}\n`);
      void resources.cleanup().finally(() => process.exit(interrupted ? 130 : 1));
    });
  }
  return () => interrupted;
}
