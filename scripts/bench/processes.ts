/**
 * The benchmark's own processes: the Temporal dev server on free ports with a temporary SQLite file,
 * and the product's worker as a separate process (`node bin/esxi-zfs.js worker` pointed at that
 * server through TEMPORAL_ADDRESS), whose memory is sampled from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { startDevServer, type DevServer } from '../../workers/dev-server';
import { hasExited, stopper } from '../../workers/child-process';
import { setTimeout as sleep } from 'node:timers/promises';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** startDevServer on a free gRPC port and its UI port (+1000) in 17233..17732, moving on when a race is lost. */
export async function startBenchServer(dbFile: string): Promise<DevServer> {
  const span = 500;
  const offset = (process.pid * 7) % span;
  let lastError: unknown;
  let tries = 0;
  for (let i = 0; i < span && tries < 5; i++) {
    const port = 17233 + ((offset + i) % span);
    if (!(await portFree(port)) || !(await portFree(port + 1000))) continue;
    tries++;
    try {
      return await startDevServer({ dbFile, port, uiPort: port + 1000 });
    } catch (error) {
      lastError = error;
      if (!/already (running|in use)|address already in use/.test((error as Error).message)) throw error;
    }
  }
  throw lastError ?? new Error('no free port pair in 17233..17732');
}

export interface WorkerProcess {
  pid: number;
  logFile: string;
  /** SIGTERM, then SIGKILL after `timeoutMs`. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Starts `bin/esxi-zfs.js worker` (its shebang's node flags, as an operator runs it) against `address` and resolves once it says it is running. */
export async function startWorkerProcess(opts: { repo: string; address: string; namespace: string; taskQueue: string; uiUrl: string; logFile: string; timeoutMs?: number }): Promise<WorkerProcess> {
  const fd = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(path.join(opts.repo, 'bin', 'esxi-zfs.js'), ['worker', '--task-queue', opts.taskQueue], {
      cwd: opts.repo,
      stdio: ['ignore', fd, fd],
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: opts.address,
        TEMPORAL_NAMESPACE: opts.namespace,
        TEMPORAL_UI_URL: opts.uiUrl,
        ESXI_ZFS_TASK_QUEUE: opts.taskQueue,
      },
    });
  } finally {
    closeSync(fd);
  }
  const stop = stopper(child);
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (;;) {
    const log = readFileSync(opts.logFile, 'utf8');
    if (/worker running on /.test(log)) break;
    if (hasExited(child) || Date.now() > deadline) {
      await stop(2_000);
      throw new Error(`the worker did not start (log ${opts.logFile}):\n${log.trim().split('\n').slice(-15).join('\n')}`);
    }
    await sleep(100);
  }
  return { pid: child.pid!, logFile: opts.logFile, stop };
}

/** VmRSS and VmHWM of a process, in bytes (undefined once it is gone). */
export function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Samples VmRSS every `intervalMs`: the peak overall and since the last `mark()`. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  peak = 0;
  phasePeak = 0;
  samples = 0;

  constructor(private readonly pid: number, private readonly intervalMs = 200) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const m = memoryOf(this.pid);
    if (!m || !Number.isFinite(m.rss)) return;
    this.samples++;
    this.peak = Math.max(this.peak, m.rss);
    this.phasePeak = Math.max(this.phasePeak, m.rss);
  }

  /** Starts a new phase; returns the peak of the phase that ended. */
  mark(): number {
    this.sample();
    const peak = this.phasePeak;
    this.phasePeak = 0;
    this.sample();
    return peak;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
