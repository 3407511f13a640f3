/**
 * Phase 2, the sweep: datasets of 1 MiB, every replicateDataset run started at once, against the
 * sum of one raw send per dataset (timed one after another); the worker's peak RSS meanwhile.
 */
import type { Client } from '@temporalio/client';
import type { LabHostState } from '../../lab/lab';
import type { ReplicationJob, ReplicationResult } from '../../core/replication/shared';
import { startReplication } from '../replication-start';
import { breakdown, type RunBreakdown } from './history';
import { destroyScript, mustOnHost, timedOnHost } from './host';
import { log } from './log';
import { MiB } from './numbers';
import { memoryOf, type RssSampler, type WorkerProcess } from './processes';
import type { SweepResults } from './results';
import type { RetryLog } from './retries';
import type { SshCommands } from './tools';
import { benchJob } from './workflow-runs';

/** The sweep's dataset names: d000, d001, ... */
export const sweepNames = (count: number) => Array.from({ length: count }, (_, i) => `d${String(i).padStart(3, '0')}`);

/** Where a sweep dataset lives on the source and is replicated to by the workflow. */
export const sweepJobDatasets = (name: string) => ({ source: `sp1/sweep/${name}`, target: `sp2/sweep/${name}` });

export interface SweepContext {
  src: LabHostState;
  dst: LabHostState;
  client: Client;
  template: ReplicationJob;
  worker: WorkerProcess;
  sampler: RssSampler;
  ssh: SshCommands;
  retries: RetryLog;
}

/** The sweep's datasets on the source, each with a snapshot @bench-raw. */
async function createSweepDatasets(src: LabHostState, names: string[]): Promise<void> {
  log(`sweep: creating ${names.length} datasets of 1 MiB`);
  await mustOnHost(src, `set -e
    zfs create sp1/sweep
    for n in ${names.join(' ')}; do zfs create sp1/sweep/$n; head -c ${MiB} /dev/urandom > /sp1/sweep/$n/f; done
    sync
    zfs snapshot -r sp1/sweep@bench-raw`, { timeoutMs: 600_000 });
}

/** One raw send per dataset, one after another: each one's seconds. */
async function rawSweep({ src, dst, ssh }: SweepContext, names: string[]): Promise<number[]> {
  await mustOnHost(dst, 'zfs create sp2/rawsweep');
  const rawSeconds: number[] = [];
  for (const n of names) {
    rawSeconds.push(await timedOnHost(src, `zfs send sp1/sweep/${n}@bench-raw | ${ssh.ssh} zfs receive -u sp2/rawsweep/${n}`));
  }
  log(`sweep: ${names.length} raw sends one after another: ${rawSeconds.reduce((a, b) => a + b, 0).toFixed(1)} s in all`);
  await mustOnHost(dst, destroyScript('sp2/rawsweep'));
  return rawSeconds;
}

/** Every dataset's workflow run started at once; their times, failures and histories, and the worker's peak RSS meanwhile. */
async function workflowSweep(ctx: SweepContext, names: string[]): Promise<Omit<SweepResults, 'rawSeconds'>> {
  const t0 = Date.now();
  const settled = await Promise.allSettled(names.map(async (n) => {
    const started = Date.now();
    const { source, target } = sweepJobDatasets(n);
    const { handle } = await startReplication(ctx.client, benchJob(ctx.template, source, target));
    const result = (await handle.result()) as ReplicationResult;
    if (result.kind !== 'full') throw new Error(`${n}: ${result.kind}`);
    return { seconds: (Date.now() - started) / 1000, handle, started, ended: Date.now() };
  }));
  const seconds = (Date.now() - t0) / 1000;
  const workerPeakRss = ctx.sampler.mark();
  const failures = settled.flatMap((s, i) => (s.status === 'rejected' ? [`${names[i]}: ${(s.reason as Error).message.split('\n')[0]}`] : []));
  const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  let maxEvents = 0;
  const breakdowns: RunBreakdown[] = [];
  for (const [i, o] of ok.entries()) {
    const b = breakdown((await o.handle.fetchHistory()).events ?? [], o.started, o.ended);
    maxEvents = Math.max(maxEvents, b.events);
    ctx.retries.note(`sweep ${names[i]}`, b);
    breakdowns.push(b);
  }
  return { datasets: names.length, seconds, failures, workerPeakRss, runSeconds: ok.map((o) => o.seconds), maxEvents, breakdowns };
}

/** The sweep over `names` (none: no sweep), and the worker's RSS just before its workflow runs. */
export async function measureSweep(ctx: SweepContext, names: string[]): Promise<{ sweep?: SweepResults; workerRssBeforeSweep: number }> {
  if (names.length === 0) return { sweep: undefined, workerRssBeforeSweep: NaN };
  await createSweepDatasets(ctx.src, names);
  const rawSeconds = await rawSweep(ctx, names);
  ctx.sampler.mark();
  const workerRssBeforeSweep = memoryOf(ctx.worker.pid)?.rss ?? NaN;
  const { datasets, seconds, failures, workerPeakRss, runSeconds, maxEvents, breakdowns } = await workflowSweep(ctx, names);
  const sweep = { datasets, seconds, rawSeconds, failures, workerPeakRss, runSeconds, maxEvents, breakdowns };
  log(`sweep: ${datasets} workflow runs at once: ${seconds.toFixed(1)} s, ${failures.length} failed, worker peak RSS ${(workerPeakRss / MiB).toFixed(0)} MiB`);
  return { sweep, workerRssBeforeSweep };
}
