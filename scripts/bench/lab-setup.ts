/**
 * Everything before the first measurement: the machine's facts, the lab (bench-san-01 ->
 * bench-san-02), the dev server and the product's worker, configureStorage, the bench's ssh key, a
 * patched syncoid, the source dataset and the change it gets, and the replication trust.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { labDown, labUp, type LabHostState } from '../../lab/lab';
import { run } from '../../lab/exec';
import { requireInventory } from '../../inventory/load';
import { replicationJobs, replicationTrustInput } from '../../inventory/jobs';
import { configureStorageInput } from '../../inventory/configure';
import { storageVms } from '../../inventory/targets';
import type { ReplicationJob } from '../../core/replication/shared';
import { TASK_QUEUE } from '../../workers/config';
import { mustOnHost } from './host';
import { log } from './log';
import { MiB, round } from './numbers';
import type { BenchOptions } from './options';
import { memoryOf, RssSampler, startBenchServer, startWorkerProcess, type WorkerProcess } from './processes';
import type { BenchResources } from './resources';
import { sweepJobDatasets } from './sweep';
import { BENCH_KEY, BENCH_KNOWN_HOSTS, PATCHED_SYNCOID, SOURCE, TARGETS } from './tools';

const REPO = path.resolve(__dirname, '../..');
export const LAB_DIR = path.join(REPO, '.data', 'lab-bench');
const HOSTS = ['bench-san-01', 'bench-san-02'];
/** The change between full and incremental: the same random bytes every time, made once. */
export const CHANGE_FILE = '/tmp/bench-change.bin';

export type MachineFacts = Awaited<ReturnType<typeof machineFacts>>;

/** The machine and its load, for the report; throws when syncoid is missing. */
export async function machineFacts() {
  const facts = {
    date: new Date().toISOString(),
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? '?',
    kernel: `${os.type()} ${os.release()}`,
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    loadavgAtStart: os.loadavg().map((l) => round(l, 2)),
    zfsFuse: (await run('dpkg-query', ['-W', '-f', '${Version}', 'zfs-fuse'])).stdout.trim() || '?',
    sanoid: (await run('dpkg-query', ['-W', '-f', '${Version}', 'sanoid'])).stdout.trim() || 'not installed',
    otherLabs: (await run('ip', ['-o', 'link', 'show', 'type', 'bridge'])).stdout.split('\n').filter((l) => /: ezlab\d+[:@]/.test(l)).length,
  };
  if (facts.sanoid === 'not installed') throw new Error('syncoid is missing: apt-get install -y sanoid');
  log(`${facts.cores} cores, ${facts.kernel}, node ${facts.node}, zfs-fuse ${facts.zfsFuse}, sanoid ${facts.sanoid}; load ${facts.loadavgAtStart.join(' ')}; other lab bridges up before ours: ${facts.otherLabs}`);
  return facts;
}

/**
 * configureStorage of both hosts from the lab inventory, through the worker as an operator runs it:
 * the pools (data, log and cache disks), eth1 on the storage network, which every tool below
 * sends over, as the runbook has it.
 */
async function configureHosts(client: Client, inventoryFile: string): Promise<void> {
  const inventory = requireInventory(inventoryFile);
  const started = Date.now();
  await Promise.all(storageVms(inventory).map((vm) => client.workflow.execute('configureStorage', {
    taskQueue: TASK_QUEUE, workflowId: `bench-configure-${vm.name}`, args: [configureStorageInput(inventory, vm.name)],
  })));
  log(`configureStorage of ${storageVms(inventory).length} hosts in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The bench datasets, the bench key, the patched syncoid, and the source dataset with its snapshot @bench-a. */
async function prepareHosts(src: LabHostState, dst: LabHostState, options: BenchOptions, notes: string[]): Promise<void> {
  await mustOnHost(src, 'zfs create sp1/bench');
  await mustOnHost(dst, 'zfs create sp2/bench');
  // The raw peer's and syncoid's key: root on the source to root on the target's storage address,
  // host key pinned from the lab state (never scanned).
  const pub = await mustOnHost(src, `rm -f ${BENCH_KEY} ${BENCH_KEY}.pub && ssh-keygen -q -t ed25519 -N '' -C esxi-zfs-bench -f ${BENCH_KEY} && cat ${BENCH_KEY}.pub`);
  await mustOnHost(dst, 'cat >> /root/.ssh/authorized_keys', { input: pub });
  await mustOnHost(src, `cat > ${BENCH_KNOWN_HOSTS}`, { input: `${dst.name},${dst.storageAddress} ${dst.hostKey}\n` });
  // syncoid 2.1.0's snapshot-listing fallback (used when `zfs get -t` is missing, as on zfs-fuse)
  // prefixes the ssh command twice for a remote dataset; a private copy with that one line removed.
  const stock = fs.readFileSync('/usr/sbin/syncoid', 'utf8');
  const patched = stock.replace(/(sub getsnapsfallback\(\) \{[\s\S]*?)\n\s*\$rhost = "\$sshcmd \$rhost";/, '$1');
  await mustOnHost(src, `cat > ${PATCHED_SYNCOID} && chmod 755 ${PATCHED_SYNCOID}`, { input: patched });
  if (patched === stock) notes.push('syncoid: the fallback fix did not apply (different syncoid version); the "patched" runs are stock');
  // The data: half random, half repeated blocks; the change: the same random bytes every time.
  log(`writing ${options.sizeMiB} MiB into ${src.name}:${SOURCE} (${options.randomMiB} random, ${options.repeatedMiB} repeated)`);
  await mustOnHost(src, `set -e
    zfs create ${SOURCE}
    head -c ${options.randomMiB * MiB} /dev/urandom > /${SOURCE}/random
    yes esxi-zfs-bench-repeated-block | head -c ${options.repeatedMiB * MiB} > /${SOURCE}/repeated
    head -c ${options.changeMiB * MiB} /dev/urandom > ${CHANGE_FILE}
    sync
    zfs snapshot ${SOURCE}@bench-a`);
}

/** The source's referenced bytes; throws when the target pool cannot hold one copy and its increments. */
async function checkSpace(src: LabHostState, dst: LabHostState, options: BenchOptions, notes: string[]): Promise<number> {
  const referencedBytes = Number((await mustOnHost(src, `zfs get -H -p -o value referenced ${SOURCE}`)).trim());
  const targetFree = Number((await mustOnHost(dst, 'zfs get -H -p -o value available sp2')).trim());
  const sourceFree = Number((await mustOnHost(src, 'zfs get -H -p -o value available sp1')).trim());
  log(`source ${SOURCE} references ${(referencedBytes / MiB).toFixed(0)} MiB; free: source ${(sourceFree / MiB).toFixed(0)} MiB, target ${(targetFree / MiB).toFixed(0)} MiB`);
  if (targetFree < referencedBytes + options.changeMiB * MiB * 2 + 64 * MiB) {
    throw new Error(`the target pool has ${(targetFree / MiB).toFixed(0)} MiB free: too little for one ${options.sizeMiB} MiB copy and its increments; use a smaller --size-mib`);
  }
  notes.push(`target pool: ${(targetFree / MiB).toFixed(0)} MiB free, room for one ${options.sizeMiB} MiB copy at a time: each tool's target is destroyed after its full+incremental, and the source rolled back to @bench-a`);
  return referencedBytes;
}

/**
 * setupReplicationTrust for the workflow's target and every sweep target; returns the lab
 * inventory's job from `src` to `dst`, the template of every benchmarked job.
 */
async function setupTrust(client: Client, inventoryFile: string, src: LabHostState, dst: LabHostState, sweepNames: string[]): Promise<ReplicationJob> {
  const inventory = requireInventory(inventoryFile);
  const template = replicationJobs(inventory).find((j) => j.source.host.name === src.name && j.target.host.name === dst.name);
  if (!template) throw new Error(`the lab inventory has no job from ${src.name} to ${dst.name}`);
  const trust = replicationTrustInput(inventory);
  trust.edges = [TARGETS.workflow, ...sweepNames.map((n) => sweepJobDatasets(n).target)].map((targetDataset) => ({
    source: template.source.host, target: template.target.host, targetDataset,
  }));
  const trustStarted = Date.now();
  await client.workflow.execute('setupReplicationTrust', { taskQueue: TASK_QUEUE, workflowId: 'bench-trust', args: [trust] });
  log(`setupReplicationTrust for ${trust.edges.length} target datasets in ${((Date.now() - trustStarted) / 1000).toFixed(1)} s`);
  return template;
}

export interface BenchLab {
  src: LabHostState;
  dst: LabHostState;
  client: Client;
  worker: WorkerProcess;
  sampler: RssSampler;
  /** The lab inventory's job from src to dst. */
  template: ReplicationJob;
  referencedBytes: number;
  workerStartRss: number;
}

/**
 * Lab, dev server, worker (a separate process), hosts and trust, ready to measure; what it starts
 * goes into `resources` as it starts, for the cleanup.
 */
export async function prepareBench(options: BenchOptions, resources: BenchResources, sweepNames: string[], notes: string[]): Promise<BenchLab> {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'esxi-zfs-bench-'));
  resources.tmpDir = tmpDir;
  await labDown({ dir: LAB_DIR }); // whatever an earlier, interrupted run left
  const [lab, server] = await Promise.all([
    labUp({ names: HOSTS, dir: LAB_DIR }),
    startBenchServer(path.join(tmpDir, 'temporal.sqlite')),
  ]);
  resources.lab = lab;
  resources.server = server;
  const [src, dst] = lab.hosts as [LabHostState, LabHostState];
  log(`lab up (${src.name} -> ${dst.name} ${dst.storageAddress}, the storage network); dev server ${server.address}`);

  const workerStarting = startWorkerProcess({
    repo: REPO, address: server.address, namespace: server.namespace, taskQueue: TASK_QUEUE, uiUrl: server.uiUrl,
    logFile: path.join(tmpDir, 'worker.log'),
  });
  const worker = await workerStarting;
  resources.worker = worker;
  const sampler = new RssSampler(worker.pid, 200);
  resources.sampler = sampler;
  sampler.start();
  const workerStartRss = memoryOf(worker.pid)?.rss ?? NaN;
  log(`worker pid ${worker.pid} running, RSS ${(workerStartRss / MiB).toFixed(0)} MiB (log ${worker.logFile})`);

  const connection = await Connection.connect({ address: server.address });
  resources.connection = connection;
  const client = new Client({ connection, namespace: server.namespace });
  await configureHosts(client, lab.inventoryFile);
  await prepareHosts(src, dst, options, notes);
  const referencedBytes = await checkSpace(src, dst, options, notes);
  const template = await setupTrust(client, lab.inventoryFile, src, dst, sweepNames);
  return { src, dst, client, worker, sampler, template, referencedBytes, workerStartRss };
}
