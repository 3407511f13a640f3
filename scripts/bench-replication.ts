/**
 * npm run bench:replication [-- --size-mib 1024 --runs 5 --no-change-runs 5 --sweep 200 --budget-s 330 --json --logs DIR]
 *
 * One run, two lab hosts (.data/lab-bench: bench-san-01 -> bench-san-02), real zfs-fuse and sshd:
 *
 *   1. A dataset of --size-mib (half random, half repeated blocks), replicated in full and then
 *      after a 10 % in-place overwrite, by each tool into its own fresh target (a 2 GiB pool holds
 *      one copy at a time: each target is destroyed after its tool's full + incremental):
 *        workflow  replicateDataset through startReplication, timed start -> result (what the
 *                  operator sees), on an embedded dev server, the product's worker a separate process
 *        raw       zfs send [-i] | ssh root@target zfs receive -u, same ssh options (and ciphers) as the product,
 *                  a key made for the bench (the replication user's key only runs the receive guard)
 *        raw, ssh defaults  the same with OpenSSH's default cipher (what the product's cipher choice is worth)
 *        syncoid   Debian's sanoid package, run on the source as root, pushing to root@target
 *      Every tool starts from the same source state: the source is rolled back to @bench-a before
 *      each tool, and the same pre-generated random bytes are written at the same offset. An untimed warm-up send and receive comes first.
 *      Then no-change workflow runs (median) and the raw floor (zfs snapshot + empty zfs send -i).
 *   2. A sweep: --sweep datasets of 1 MiB, all replicateDataset runs started at once, against the
 *      sum of one raw send per dataset (timed one after another); the worker's peak RSS meanwhile.
 *
 *      Tools take turns in a rotating order. --runs repeats phase 1 (median shown) while the
 *      --budget-s estimate allows. Each workflow run's history gives where its time went (activity
 *      by activity) and which activities were retried, and why.
 *
 * Results go to stdout (a table; with --json the last line is one JSON object), progress to stderr.
 * The lab, the dev server and the worker are always stopped, also on Ctrl-C.
 */
import * as os from 'node:os';
import { LAB_DIR, machineFacts, prepareBench } from './bench/lab-setup';
import { benchStarted, log } from './bench/log';
import { round } from './bench/numbers';
import { benchOptions } from './bench/options';
import { memoryOf } from './bench/processes';
import { report } from './bench/report';
import { BenchResources, stopOnSignals } from './bench/resources';
import type { Results } from './bench/results';
import { RetryLog } from './bench/retries';
import { measureRounds } from './bench/rounds';
import { measureSweep, sweepNames } from './bench/sweep';
import { sshCommands, Syncoid } from './bench/tools';
import { WorkflowRunner } from './bench/workflow-runs';

const options = benchOptions();
const resources = new BenchResources(LAB_DIR, options.logs);
const interrupted = stopOnSignals(resources);

async function bench(retries: RetryLog): Promise<Results> {
  const notes: string[] = [];
  const facts = await machineFacts();
  const names = sweepNames(options.sweep);
  const lab = await prepareBench(options, resources, names, notes);
  const { src, dst, client, template, worker, sampler } = lab;
  const ciphers = template.sshCiphers.join(',');
  const ssh = sshCommands(dst, ciphers);
  const syncoid = new Syncoid(src, dst, ciphers);
  const workflows = new WorkflowRunner(client, src, retries);

  const sweepEstimateMs = options.sweep * 600 + 20_000; // measured: ~0.45 s per dataset (creation, raw send, its share of the sweep)
  const rounds = await measureRounds({ src, dst, options, template, ssh, syncoid, workflows }, sweepEstimateMs, notes);
  const { sweep, workerRssBeforeSweep } = await measureSweep({ src, dst, client, template, worker, sampler, ssh, retries }, names);

  const memory = memoryOf(worker.pid);
  return {
    facts: { ...facts, loadavgAtEnd: os.loadavg().map((l) => round(l, 2)) },
    ...rounds,
    referencedBytes: lab.referencedBytes, syncoidMessages: syncoid.messages, sweep,
    workerPeakRss: sampler.peak, workerHwm: memory?.hwm ?? NaN, retryInitialMs: template.retry.initialIntervalMs, ciphers,
    workerStartRss: lab.workerStartRss, workerRssBeforeSweep, notes,
  };
}

async function main(): Promise<void> {
  const retries = new RetryLog();
  let results: Results | undefined;
  try {
    results = await bench(retries);
  } finally {
    await resources.cleanup();
  }
  log(`done in ${((Date.now() - benchStarted) / 1000).toFixed(0)} s`);
  report(results, options, retries);
}

main().catch(async (error) => {
  if (!interrupted()) process.stderr.write(`bench-replication: ${(error as Error).stack ?? error}\n`);
  await resources.cleanup();
  process.exit(interrupted() ? 130 : 1);
});
