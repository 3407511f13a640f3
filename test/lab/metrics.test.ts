/**
 * The worker's Prometheus endpoint and JSON logs, for real: `esxi-zfs worker` as its own process
 * (the Runtime, with its metrics exporter, is once per process) against a dev server, one
 * replication between two lab hosts (real sshd and zfs-fuse), then /metrics scraped over HTTP.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { labDown, labUp, type LabHostState, type LabState } from '../../lab/lab';
import { requireInventory } from '../../inventory/load';
import { replicationJobs, replicationTrustInput } from '../../inventory/jobs';
import type { ReplicationJob, ReplicationResult } from '../../core/replication/shared';
import { Metric } from '../../core/metrics';
import { startReplication } from '../../scripts/replication-start';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';
import { configureLab } from '../helpers/lab-configure';
import { on, scenarioJob } from '../helpers/lab-replication';
import { only, samples, scrape, type Sample } from '../helpers/prometheus';

const CLI = path.join(__dirname, '../../bin/esxi-zfs.js');
const LAB_DIR = path.resolve(__dirname, '../../.data/lab-metrics-test');
const WRITTEN = 6 * 2 ** 20;

let lab: LabState;
let temporal: TestTemporal;
let src: LabHostState;
let job: ReplicationJob;

/** A TCP port nothing listens on now, on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface WorkerProcess {
  child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr. */
  output(): string;
  /** Resolves with its exit code (or signal). */
  exited: Promise<number | string>;
}

/** `esxi-zfs worker ARGS` on the test's server, JSON logs; resolves once it says it runs, or once it exits. */
async function startWorkerProcess(args: string[]): Promise<WorkerProcess> {
  const env = { ...process.env, TEMPORAL_ADDRESS: temporal.server.address, TEMPORAL_NAMESPACE: temporal.server.namespace, ESXI_ZFS_LOG_FORMAT: 'json' };
  const child = spawn(CLI, ['worker', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const started = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/worker running/.test(output)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
  // A worker process first bundles the workflows: slow on a busy machine.
  const timeout = new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`no 'worker running' within 180 s:\n${output}`)), 180_000).unref());
  await Promise.race([started, exited, timeout]);
  return { child, output: () => output, exited };
}

async function stopWorker(worker: WorkerProcess | undefined): Promise<void> {
  if (!worker || worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  worker.child.kill('SIGTERM');
  const killer = setTimeout(() => worker.child.kill('SIGKILL'), 20_000);
  await worker.exited;
  clearTimeout(killer);
}

/** The worker's log lines, each parsed: every line must be one JSON object. */
function jsonLines(output: string): Record<string, unknown>[] {
  return output.split('\n').filter((line) => line.trim() !== '').map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`not a JSON log line: ${line}`);
    }
  });
}

/** Scrapes until `ready` holds (workflow metrics reach the exporter when the worker processes the last activation). */
async function scrapeUntil(address: string, ready: (metrics: Sample[]) => boolean): Promise<Sample[]> {
  let metrics = await scrape(address);
  for (const deadline = Date.now() + 10_000; !ready(metrics) && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 200));
    metrics = await scrape(address);
  }
  return metrics;
}

before(async () => {
  [lab, temporal] = await Promise.all([labUp({ names: ['test-san-01', 'test-san-02'], dir: LAB_DIR }), startTestTemporal('metrics')]);
  [src] = lab.hosts as [LabHostState, LabHostState];
  const dst = lab.hosts[1]!;
  await configureLab(temporal, lab);
  await on(src, 'zfs create -p sp1/t');
  await on(dst, 'zfs create -p sp2/r');
  const inventory = requireInventory(lab.inventoryFile);
  job = scenarioJob(replicationJobs(inventory)[0]!, 'metrics');
  const trust = replicationTrustInput(inventory);
  trust.edges = [{ source: job.source.host, target: job.target.host, targetDataset: job.target.dataset }];
  await temporal.withWorker(() => temporal.client.workflow.execute('setupReplicationTrust', { taskQueue: temporal.taskQueue, workflowId: 'trust', args: [trust] }));
});

after(async () => {
  await temporal?.stop();
  await labDown({ dir: LAB_DIR });
});

describe('worker metrics and logs', { timeout: 600_000 }, () => {
  let worker: WorkerProcess | undefined;
  let address: string;
  let result: ReplicationResult;
  let started: number;

  before(async () => {
    address = `127.0.0.1:${await freePort()}`;
    worker = await startWorkerProcess(['--metrics-address', address]);
    assert.equal(worker.child.exitCode, null, `the worker runs:\n${worker.output()}`);
    await on(src, `zfs create sp1/t/metrics && head -c ${WRITTEN} /dev/urandom > /sp1/t/metrics/random`);
    started = Date.now();
    const { handle } = await startReplication(temporal.client, job);
    result = (await handle.result()) as ReplicationResult;
  });

  after(async () => {
    await stopWorker(worker);
  });

  test('the SDK\'s runtime metrics: workflows completed, activity latencies, pollers', async () => {
    const metrics = await scrapeUntil(address, (m) => samples(m, 'temporal_workflow_completed', { workflow_type: 'replicateDataset' }).length > 0);
    assert.equal(only(metrics, 'temporal_workflow_completed', { workflow_type: 'replicateDataset' }).value, 1);
    assert.equal(only(metrics, 'temporal_activity_execution_latency_count', { activity_type: 'sendSnapshot' }).value, 1);
    assert.equal(only(metrics, 'temporal_local_activity_execution_latency_count', { activity_type: 'createSnapshot' }).value, 1);
    assert.ok(samples(metrics, 'temporal_num_pollers').length > 0);
  });

  test('replication: bytes per dataset and target host, run duration, last success', async () => {
    const labels = { dataset: 'sp1/t/metrics', sourceHost: 'test-san-01', targetHost: 'test-san-02' };
    const metrics = await scrapeUntil(address, (m) => samples(m, Metric.replicationLastSuccess, labels).length > 0);
    const bytes = only(metrics, Metric.replicationBytes, labels).value;
    assert.ok(bytes >= WRITTEN, `${bytes} bytes counted, ${WRITTEN} written`);
    assert.equal(bytes, result.bytes, 'the bytes the run reports');
    assert.equal(only(metrics, Metric.replicationBytes, labels).labels.workflowType, 'replicateDataset');

    const lastSuccess = only(metrics, Metric.replicationLastSuccess, labels).value;
    const now = Date.now() / 1000;
    assert.ok(lastSuccess >= Math.floor(started / 1000) && lastSuccess <= now, `last success ${lastSuccess}, run started ${started / 1000}, now ${now}`);
    assert.ok(now - lastSuccess < 60);

    assert.equal(only(metrics, `${Metric.replicationDuration}_count`, labels).value, 1, 'one run observed');
    const seconds = only(metrics, `${Metric.replicationDuration}_sum`, labels).value;
    assert.ok(Math.abs(seconds - result.durationMs / 1000) < 0.01, `duration ${seconds} s, the run says ${result.durationMs} ms`);
    assert.equal(only(metrics, `${Metric.replicationDuration}_bucket`, { ...labels, le: '86400' }).value, 1, 'the product\'s buckets (up to a day)');
  });

  test('step durations: every activity of the run, by activity and workflow type', async () => {
    const metrics = await scrape(address);
    const steps = samples(metrics, `${Metric.stepDuration}_count`, { workflowType: 'replicateDataset', outcome: 'completed' });
    const types = new Set(steps.map((s) => s.labels.activityType));
    for (const type of ['createSnapshot', 'readDatasetState', 'openSharedConnection', 'sendSnapshot']) {
      assert.ok(types.has(type), `${type} measured: ${[...types].join(', ')}`);
    }
    const send = { workflowType: 'replicateDataset', activityType: 'sendSnapshot', outcome: 'completed' };
    assert.equal(only(metrics, `${Metric.stepDuration}_count`, send).value, 1);
    const seconds = only(metrics, `${Metric.stepDuration}_sum`, send).value;
    const sdkSeconds = only(metrics, 'temporal_activity_execution_latency_sum', { activity_type: 'sendSnapshot' }).value;
    assert.ok(seconds > 0 && Math.abs(seconds - sdkSeconds) < 0.1, `sendSnapshot took ${seconds} s (the SDK measured ${sdkSeconds} s)`);
    // The trust workflow ran on the test's own worker, not this one: only what this worker ran.
    assert.equal(samples(metrics, `${Metric.stepDuration}_count`, { workflowType: 'setupReplicationTrust' }).length, 0);
  });

  test('JSON logs carry the workflow\'s and the activity\'s ids', async () => {
    // The SDK holds log lines ~100 ms to order them by time before it writes them.
    for (const deadline = Date.now() + 5_000; !worker!.output().includes('replication done') && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const lines = jsonLines(worker!.output());
    const running = lines.find((l) => String(l.message).startsWith('worker running'));
    assert.equal(running?.address, temporal.server.address);
    const done = lines.find((l) => l.message === 'replication done');
    assert.ok(done, `a 'replication done' line:\n${worker!.output()}`);
    assert.equal(done.workflowId, 'replicate:test-san-01:sp1/t/metrics');
    assert.equal(done.workflowType, 'replicateDataset');
    assert.match(String(done.runId), /^[0-9a-f-]{36}$/);
    assert.equal(done.bytes, result.bytes);
    const received = lines.find((l) => l.message === 'stream received');
    assert.ok(received, 'the stream step logged');
    assert.equal(received.activityType, 'sendSnapshot');
    assert.equal(received.workflowId, done.workflowId);
    assert.equal(received.workflowRunId, done.runId);
    assert.match(String(received.activityId), /^\d+$/);
    assert.equal(received.taskQueue, temporal.taskQueue);
    assert.ok(lines.every((l) => typeof l.time === 'string' && typeof l.level === 'string'));
  });

  test('an explicit metrics address already taken: a second worker refuses to start and says why', async () => {
    const second = await startWorkerProcess(['--metrics-address', address]);
    assert.equal(await second.exited, 1, second.output());
    assert.match(second.output(), new RegExp(`metrics endpoint ${address}: .*in use.*--metrics-address`, 'i'));
  });
});
