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
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { labDown, labUp, type LabHostState, type LabState } from '../lab/lab';
import { HOST_ENV, run } from '../lab/exec';
import { requireInventory } from '../inventory/load';
import { replicationJobs, replicationTrustInput } from '../inventory/jobs';
import type { ReplicationJob, ReplicationResult } from '../core/replication/shared';
import { TASK_QUEUE } from '../workers/config';
import type { DevServer } from '../workers/dev-server';
import { startReplication } from './replication-start';
import { counterStage } from '../activities/replication/byte-counter';
import { growStdinPipe } from '../core/trust/plan';
import { breakdown, describeBreakdown, type RunBreakdown } from './bench/history';
import { memoryOf, RssSampler, startBenchServer, startWorkerProcess, type WorkerProcess } from './bench/processes';

const REPO = path.resolve(__dirname, '..');
const LAB_DIR = path.join(REPO, '.data', 'lab-bench');
const HOSTS = ['bench-san-01', 'bench-san-02'];
const MiB = 1024 * 1024;

const SOURCE = 'sp1/bench/d';
const TARGETS = { workflow: 'sp2/bench/wf', raw: 'sp2/bench/raw', rawPipes: 'sp2/bench/rawpipes', rawDefault: 'sp2/bench/rawdefault', syncoid: 'sp2/bench/syncoid' } as const;
type Tool = keyof typeof TARGETS;
/**
 * rawPipes: the raw pipeline with the product's pipe sizes (its splice counter on the source, the
 * receive guard's 1 MiB stdin pipe on the target), to show what the pipes are worth and what the
 * workflow costs beyond them. rawDefault: with OpenSSH's default cipher, what the cipher is worth.
 */
const TOOLS: Tool[] = ['workflow', 'raw', 'rawPipes', 'rawDefault', 'syncoid'];
const LABELS: Record<Tool, string> = { workflow: 'workflow', raw: 'raw', rawPipes: 'raw, 1 MiB pipes', rawDefault: 'raw, ssh defaults', syncoid: 'syncoid' };
const toolLabel = (tool: Tool) => LABELS[tool];
const BENCH_KEY = '/root/.ssh/bench_ed25519';
const BENCH_KNOWN_HOSTS = '/root/.ssh/bench_known_hosts';
const PATCHED_SYNCOID = '/root/syncoid-fallback-fixed';
const CHANGE_FILE = '/tmp/bench-change.bin';

// ------------------------------------------------------------------------------------------------
// Options

const { values: args } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '1024' },
    runs: { type: 'string', default: '5' },
    'no-change-runs': { type: 'string', default: '5' },
    sweep: { type: 'string', default: '200' },
    'budget-s': { type: 'string', default: '330' },
    json: { type: 'boolean', default: false },
    logs: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run bench:replication -- [--size-mib 1024] [--runs 5] [--no-change-runs 5] [--sweep 200] [--budget-s 330] [--json] [--logs DIR (keep the worker, dev server, sshd and zfs-fuse logs)]');
  process.exit(0);
}
const positive = (name: string, text: string | undefined, min = 1): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, not ${text}`);
  return n;
};
const SIZE_MIB = positive('size-mib', args['size-mib'], 16);
const RUNS = positive('runs', args.runs);
const NO_CHANGE_RUNS = positive('no-change-runs', args['no-change-runs']);
const SWEEP = positive('sweep', args.sweep, 0);
const BUDGET_MS = positive('budget-s', args['budget-s']) * 1000;
const RANDOM_MIB = Math.floor(SIZE_MIB / 2);
const REPEATED_MIB = SIZE_MIB - RANDOM_MIB;
const CHANGE_MIB = Math.max(1, Math.round(SIZE_MIB / 10));
const CHANGE_OFFSET_MIB = Math.max(0, Math.floor((RANDOM_MIB - CHANGE_MIB) / 2));

// ------------------------------------------------------------------------------------------------
// Small helpers

const benchStarted = Date.now();
const log = (message: string) => process.stderr.write(`[bench +${((Date.now() - benchStarted) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);
const secs = (ms: number) => ms / 1000;

/** Runs a shell script inside a lab host (its mount, UTS and network namespaces), as root. */
async function onHost(host: LabHostState, script: string, opts: { timeoutMs?: number; input?: string } = {}) {
  return run('nsenter', [`--mount=${host.mountNs}`, `--uts=${host.utsNs}`, `--net=/run/netns/${host.netns}`, '--', 'sh', '-c', script], {
    env: HOST_ENV,
    input: opts.input,
    timeoutMs: opts.timeoutMs ?? 300_000,
  });
}

async function must(host: LabHostState, script: string, opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await onHost(host, script, opts);
  if (r.code !== 0) throw new Error(`${host.name}: exit ${r.code}: ${script}\n${(r.stderr || r.stdout).trim().split('\n').slice(-12).join('\n')}`);
  return r.stdout;
}

/** Wall-clock seconds of a script on a host, as seen from here (nsenter + sh included: a few ms). */
/** `zfs destroy -r`, retried: zfs-fuse may report a freshly rolled back or received dataset busy for a moment. */
function destroyScript(dataset: string): string {
  return `if zfs get -H -o value name ${dataset} >/dev/null 2>&1; then
    for i in 1 2 3 4 5 6 7 8; do zfs destroy -r ${dataset} 2>/dev/null && exit 0; sleep 0.5; done
    zfs destroy -r -f ${dataset}
  fi`;
}

async function timed(host: LabHostState, script: string): Promise<number> {
  const t0 = performance.now();
  await must(host, script);
  return (performance.now() - t0) / 1000;
}

// ------------------------------------------------------------------------------------------------
// State shared with the cleanup

let lab: LabState | undefined;
let server: DevServer | undefined;
let worker: WorkerProcess | undefined;
let sampler: RssSampler | undefined;
let connection: Connection | undefined;
let tmpDir: string | undefined;
let cleaning: Promise<void> | undefined;
/** Every activity retry seen in a workflow history: `where: activity attempt N after: failure`. */
const retries: string[] = [];

/** Retries grouped by their failure, host and command details removed. */
function retryReasons(): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of retries) {
    // `where: activity attempt N after: ssh HOST (ADDRESS): what happened[ while running]: command`
    const m = /^[^:]*: (\S+) attempt \d+ after: (?:ssh [^:]*:\d+\): )?([^:]*)/.exec(r);
    const reason = m ? `${m[1]}: ${m[2]!.replace(/ while running$/, '')}` : r;
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

function noteRetries(where: string, b: RunBreakdown): void {
  for (const a of b.activities) {
    if (a.attempt > 1) retries.push(`${where}: ${a.name} attempt ${a.attempt} after: ${(a.lastFailure ?? '?').split('\n')[0]}`);
  }
}

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    sampler?.stop();
    const step = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (error) {
        log(`cleanup: ${what} failed: ${(error as Error).message}`);
      }
    };
    await step('stopping the worker', async () => worker?.stop());
    await step('stopping the dev server', async () => server?.stop());
    if (args.logs) {
      await step('keeping the logs', async () => {
        const dir = path.resolve(args.logs!);
        fs.mkdirSync(dir, { recursive: true });
        const keep = (file: string | undefined, name: string) => {
          if (file && fs.existsSync(file)) fs.copyFileSync(file, path.join(dir, name));
        };
        keep(worker?.logFile, 'worker.log');
        keep(server?.logFile, 'temporal.log');
        for (const h of lab?.hosts ?? []) {
          keep(h.logs.sshd, `${h.name}-sshd.log`);
          keep(h.logs.zfsFuse, `${h.name}-zfs-fuse.log`);
        }
        log(`logs kept in ${dir}`);
      });
    }
    await step('lab down', () => labDown({ dir: LAB_DIR }));
    await step('closing the client', async () => connection?.close());
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
    log('cleaned up: worker and dev server stopped, lab down');
  })();
  return cleaning;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return; // a second Ctrl-C: the cleanup is already under way
    interrupted = true;
    log(`${signal}: stopping everything`);
    void cleanup().finally(() => process.exit(130));
  });
}
// While stopping, pending client calls fail (the server is going away), some from timers: never let
// one of them end the process before the lab is down.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (error: unknown) => {
    if (!interrupted) process.stderr.write(`bench-replication: ${event}: ${(error as Error)?.stack ?? error}\n`);
    void cleanup().finally(() => process.exit(interrupted ? 130 : 1));
  });
}

// ------------------------------------------------------------------------------------------------
// The benchmark

interface WorkflowRun {
  seconds: number;
  result: ReplicationResult;
  breakdown: RunBreakdown;
}

interface Results {
  facts: Record<string, unknown>;
  runsDone: number;
  referencedBytes: number;
  full: Record<Tool, number[]>;
  incremental: Record<Tool, number[]>;
  workflowRuns: { full: WorkflowRun[]; incremental: WorkflowRun[]; noChange: WorkflowRun[] };
  /** Runs that found the source's shared ssh connection to the target open (the earlier run's). */
  warmRuns: { incremental: WorkflowRun[]; noChange: WorkflowRun[] };
  rawSnapshotSeconds: number[];
  rawNoChange: number[];
  syncoidStockIncremental: { ok: boolean; seconds?: number; error?: string }[];
  syncoidMessages: Set<string>;
  sweep?: {
    datasets: number;
    seconds: number;
    rawSeconds: number[];
    failures: string[];
    workerPeakRss: number;
    runSeconds: number[];
    maxEvents: number;
    breakdowns: RunBreakdown[];
  };
  workerPeakRss: number;
  workerHwm: number;
  retryInitialMs: number;
  /** The product's ssh ciphers, given to raw and syncoid too. */
  ciphers: string;
  workerStartRss: number;
  workerRssBeforeSweep: number;
  notes: string[];
}

async function bench(): Promise<Results> {
  const notes: string[] = [];
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

  // --- Lab, Temporal and the worker -----------------------------------------------------------
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'esxi-zfs-bench-'));
  await labDown({ dir: LAB_DIR }); // whatever an earlier, interrupted run left
  const [state, devServer] = await Promise.all([
    labUp({ names: HOSTS, dir: LAB_DIR }),
    startBenchServer(path.join(tmpDir, 'temporal.sqlite')),
  ]);
  lab = state;
  server = devServer;
  const [src, dst] = lab.hosts as [LabHostState, LabHostState];
  log(`lab up (${src.name} ${src.address} -> ${dst.name} ${dst.address}); dev server ${server.address}`);

  const workerStarting = startWorkerProcess({
    repo: REPO, address: server.address, namespace: server.namespace, taskQueue: TASK_QUEUE, uiUrl: server.uiUrl,
    logFile: path.join(tmpDir, 'worker.log'),
  });
  const setupHosts = (async () => {
    await must(src, 'zpool create sp1 /srv/disks/c8t1d0 log /srv/disks/c11t0d0 2>/dev/null && zfs create sp1/bench');
    await must(dst, 'zpool create sp2 /srv/disks/c8t1d0 log /srv/disks/c11t0d0 2>/dev/null && zfs create sp2/bench');
    // The raw peer's and syncoid's key: root on the source to root on the target, host key pinned
    // from the lab state (never scanned).
    const pub = await must(src, `rm -f ${BENCH_KEY} ${BENCH_KEY}.pub && ssh-keygen -q -t ed25519 -N '' -C esxi-zfs-bench -f ${BENCH_KEY} && cat ${BENCH_KEY}.pub`);
    await must(dst, 'cat >> /root/.ssh/authorized_keys', { input: pub });
    await must(src, `cat > ${BENCH_KNOWN_HOSTS}`, { input: `${dst.name},${dst.address} ${dst.hostKey}\n` });
    // syncoid 2.1.0's snapshot-listing fallback (used when `zfs get -t` is missing, as on zfs-fuse)
    // prefixes the ssh command twice for a remote dataset; a private copy with that one line removed.
    const stock = fs.readFileSync('/usr/sbin/syncoid', 'utf8');
    const patched = stock.replace(/(sub getsnapsfallback\(\) \{[\s\S]*?)\n\s*\$rhost = "\$sshcmd \$rhost";/, '$1');
    await must(src, `cat > ${PATCHED_SYNCOID} && chmod 755 ${PATCHED_SYNCOID}`, { input: patched });
    if (patched === stock) notes.push('syncoid: the fallback fix did not apply (different syncoid version); the "patched" runs are stock');
    // The data: half random, half repeated blocks; the change: the same random bytes every time.
    log(`writing ${SIZE_MIB} MiB into ${src.name}:${SOURCE} (${RANDOM_MIB} random, ${REPEATED_MIB} repeated)`);
    await must(src, `set -e
      zfs create ${SOURCE}
      head -c ${RANDOM_MIB * MiB} /dev/urandom > /${SOURCE}/random
      yes esxi-zfs-bench-repeated-block | head -c ${REPEATED_MIB * MiB} > /${SOURCE}/repeated
      head -c ${CHANGE_MIB * MiB} /dev/urandom > ${CHANGE_FILE}
      sync
      zfs snapshot ${SOURCE}@bench-a`);
  })();
  [worker] = await Promise.all([workerStarting, setupHosts]);
  sampler = new RssSampler(worker.pid, 200);
  sampler.start();
  const workerStartRss = memoryOf(worker.pid)?.rss ?? NaN;
  log(`worker pid ${worker.pid} running, RSS ${(workerStartRss / MiB).toFixed(0)} MiB (log ${worker.logFile})`);

  const referencedBytes = Number((await must(src, `zfs get -H -p -o value referenced ${SOURCE}`)).trim());
  const targetFree = Number((await must(dst, 'zfs get -H -p -o value available sp2')).trim());
  const sourceFree = Number((await must(src, 'zfs get -H -p -o value available sp1')).trim());
  log(`source ${SOURCE} references ${(referencedBytes / MiB).toFixed(0)} MiB; free: source ${(sourceFree / MiB).toFixed(0)} MiB, target ${(targetFree / MiB).toFixed(0)} MiB`);
  if (targetFree < referencedBytes + CHANGE_MIB * MiB * 2 + 64 * MiB) {
    throw new Error(`the target pool has ${(targetFree / MiB).toFixed(0)} MiB free: too little for one ${SIZE_MIB} MiB copy and its increments; use a smaller --size-mib`);
  }
  notes.push(`target pool: ${(targetFree / MiB).toFixed(0)} MiB free, room for one ${SIZE_MIB} MiB copy at a time: each tool's target is destroyed after its full+incremental, and the source rolled back to @bench-a`);

  connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });

  // --- Trust: the workflow's target and every sweep target ------------------------------------
  const inventory = requireInventory(lab.inventoryFile);
  const template = replicationJobs(inventory).find((j) => j.source.host.name === src.name && j.target.host.name === dst.name);
  if (!template) throw new Error(`the lab inventory has no job from ${src.name} to ${dst.name}`);
  const sweepNames = Array.from({ length: SWEEP }, (_, i) => `d${String(i).padStart(3, '0')}`);
  const trust = replicationTrustInput(inventory);
  trust.edges = [TARGETS.workflow, ...sweepNames.map((n) => `sp2/sweep/${n}`)].map((targetDataset) => ({
    source: template.source.host, target: template.target.host, targetDataset,
  }));
  const trustStarted = Date.now();
  await client.workflow.execute('setupReplicationTrust', { taskQueue: TASK_QUEUE, workflowId: 'bench-trust', args: [trust] });
  log(`setupReplicationTrust for ${trust.edges.length} target datasets in ${((Date.now() - trustStarted) / 1000).toFixed(1)} s`);

  const job = (sourceDataset: string, targetDataset: string): ReplicationJob => ({
    ...template,
    source: { ...template.source, dataset: sourceDataset },
    target: { ...template.target, dataset: targetDataset },
    retention: {},
  });

  /** Every run in the main rows starts cold: no shared ssh connection left open by the run before. */
  const closeSharedConnections = () =>
    must(src, 'for s in /root/.ssh/esxi-zfs-*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit bench 2>/dev/null; done; true');

  /** When each dataset's last workflow run ended. */
  const lastRunEnded = new Map<string, number>();
  async function workflowRun(j: ReplicationJob, expect: ReplicationResult['kind'], connection: 'cold' | 'warm' = 'cold'): Promise<WorkflowRun> {
    // A new second, untimed: a run in the same second as the one before waits a second (inside the
    // timed run) for a snapshot name of its own.
    const last = lastRunEnded.get(j.source.dataset);
    if (last !== undefined && Math.floor(Date.now() / 1000) <= Math.floor(last / 1000)) await sleep(1050 - (Date.now() % 1000));
    if (connection === 'cold') await closeSharedConnections();
    const t0 = Date.now();
    const { handle, started } = await startReplication(client, j);
    if (!started) throw new Error(`a run of ${j.source.dataset} was already in flight`);
    const result = (await handle.result()) as ReplicationResult;
    const t1 = Date.now();
    lastRunEnded.set(j.source.dataset, t1);
    if (result.kind !== expect) throw new Error(`workflow run of ${j.source.dataset}: expected ${expect}, got ${result.kind}`);
    const history = await handle.fetchHistory();
    const b = breakdown(history.events ?? [], t0, t1);
    noteRetries(`${expect} ${j.source.dataset}`, b);
    return { seconds: (t1 - t0) / 1000, result, breakdown: b };
  }

  const ciphers = template.sshCiphers.join(',');
  const sshDefault = `ssh -T -i ${BENCH_KEY} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${BENCH_KNOWN_HOSTS} -o ServerAliveInterval=10 -o ServerAliveCountMax=3 root@${dst.address}`;
  const ssh = sshDefault.replace('ssh -T ', `ssh -T -c ${ciphers} `);
  const syncoidArgs = `--sshcipher ${ciphers} --sshkey ${BENCH_KEY} --sshoption IdentitiesOnly=yes --sshoption BatchMode=yes --sshoption StrictHostKeyChecking=yes --sshoption UserKnownHostsFile=${BENCH_KNOWN_HOSTS} ${SOURCE} root@${dst.address}:${TARGETS.syncoid}`;
  const syncoidMessages = new Set<string>();
  const syncoid = async (binary: string): Promise<{ ok: boolean; seconds: number; error?: string }> => {
    const t0 = performance.now();
    const r = await onHost(src, `${binary} ${syncoidArgs}`);
    const seconds = (performance.now() - t0) / 1000;
    const out = `${r.stdout}\n${r.stderr}`;
    for (const line of out.split('\n')) {
      const m = /^(INFO|WARN|WARNING|CRITICAL ERROR|ERROR): (.*)$/.exec(line.trim());
      if (m) syncoidMessages.add(`${m[1]}: ${m[2]!.replace(/\d{4}-\d\d-\d\d:\d\d:\d\d:\d\d/g, 'DATE').replace(/\(~ [^)]*\)/, '').replace(/\d+ bytes/, 'N bytes').trim()}`);
    }
    if (/snapshot listing failed/.test(out)) syncoidMessages.add('WARN: snapshot listing failed, trying fallback command (zfs-fuse has no `zfs get -t`)');
    const critical = /CRITICAL ERROR: .*/.exec(out)?.[0];
    if (r.code !== 0 || critical) return { ok: false, seconds, error: critical ?? `exit ${r.code}: ${out.trim().split('\n').slice(-3).join(' | ')}` };
    return { ok: true, seconds };
  };

  const resetSource = async () => {
    // Back to the data every tool starts from: later snapshots (ours, the workflow's, syncoid's) go.
    await must(src, `zfs rollback -r ${SOURCE}@bench-a`);
  };
  const applyChange = async () => {
    await must(src, `dd if=${CHANGE_FILE} of=/${SOURCE}/random bs=1M seek=${CHANGE_OFFSET_MIB} conv=notrunc 2>/dev/null && sync`);
  };
  const destroyTarget = async (tool: Tool) => {
    await must(dst, destroyScript(TARGETS[tool]));
  };

  // --- Phase 1: full, incremental, no-change --------------------------------------------------
  // A warm-up send and receive, not timed: the first tool of the first round would otherwise meet
  // cold caches on both hosts (measured: its full send 1 s slower than every later one).
  await must(src, `zfs send ${SOURCE}@bench-a | ${ssh} zfs receive -u sp2/bench/warmup`, { timeoutMs: 600_000 });
  await must(dst, destroyScript('sp2/bench/warmup'));

  const full: Record<Tool, number[]> = { workflow: [], raw: [], rawPipes: [], rawDefault: [], syncoid: [] };
  const incremental: Record<Tool, number[]> = { workflow: [], raw: [], rawPipes: [], rawDefault: [], syncoid: [] };
  // The raw pipelines: plain, with the product's pipes, with OpenSSH's default cipher.
  const rawPipeline = (tool: 'raw' | 'rawPipes' | 'rawDefault', send: string) =>
    tool === 'rawPipes'
      ? `{ ${send} | ${counterStage('splice').text}${ssh} "${growStdinPipe('perl')}; zfs receive -u ${TARGETS[tool]}"; } 3>/dev/null`
      : `${send} | ${tool === 'raw' ? ssh : sshDefault} zfs receive -u ${TARGETS[tool]}`;
  const workflowRuns: Results['workflowRuns'] = { full: [], incremental: [], noChange: [] };
  const warmRuns: Results['warmRuns'] = { incremental: [], noChange: [] };
  const rawSnapshotSeconds: number[] = [];
  const rawNoChange: number[] = [];
  const syncoidStockIncremental: Results['syncoidStockIncremental'] = [];
  const sweepEstimateMs = SWEEP * 600 + 20_000; // measured: ~0.45 s per dataset (creation, raw send, its share of the sweep)
  let runsDone = 0;

  for (let r = 0; r < RUNS; r++) {
    const repStarted = Date.now();
    const order = TOOLS.map((_, i) => TOOLS[(i + r) % TOOLS.length]!); // rotate: no tool always first
    for (const tool of order) {
      await resetSource();
      await destroyTarget(tool);
      let fullSeconds: number;
      if (tool === 'workflow') {
        const w = await workflowRun(job(SOURCE, TARGETS.workflow), 'full');
        workflowRuns.full.push(w);
        fullSeconds = w.seconds;
      } else if (tool === 'raw' || tool === 'rawPipes' || tool === 'rawDefault') {
        fullSeconds = await timed(src, rawPipeline(tool, `zfs send ${SOURCE}@bench-a`));
      } else {
        const s = await syncoid('syncoid');
        if (!s.ok) throw new Error(`syncoid full failed: ${s.error}`);
        fullSeconds = s.seconds;
      }
      full[tool].push(fullSeconds);

      await applyChange();
      let incSeconds: number;
      if (tool === 'workflow') {
        const w = await workflowRun(job(SOURCE, TARGETS.workflow), 'incremental');
        workflowRuns.incremental.push(w);
        incSeconds = w.seconds;
        // The same change again, now through the connection the run before left open: the case
        // of a host's second and later datasets when their schedules fire together.
        await applyChange();
        warmRuns.incremental.push(await workflowRun(job(SOURCE, TARGETS.workflow), 'incremental', 'warm'));
        if (r === 0) {
          for (const connection of ['cold', 'warm'] as const) {
            for (let i = 0; i < NO_CHANGE_RUNS; i++) {
              const n = await workflowRun(job(SOURCE, TARGETS.workflow), 'incremental', connection);
              if (n.result.bytes > 256 * 1024) throw new Error(`no-change run sent ${n.result.bytes} bytes`);
              (connection === 'cold' ? workflowRuns.noChange : warmRuns.noChange).push(n);
            }
          }
        }
      } else if (tool === 'raw' || tool === 'rawPipes' || tool === 'rawDefault') {
        const snapshotSeconds = await timed(src, `zfs snapshot ${SOURCE}@bench-b`);
        if (tool === 'raw') rawSnapshotSeconds.push(snapshotSeconds);
        incSeconds = await timed(src, rawPipeline(tool, `zfs send -i @bench-a ${SOURCE}@bench-b`));
        if (r === 0 && tool === 'raw') {
          let base = 'bench-b';
          for (let i = 0; i < NO_CHANGE_RUNS; i++) {
            const next = `bench-n${i}`;
            rawNoChange.push(await timed(src, `zfs snapshot ${SOURCE}@${next} && zfs send -i @${base} ${SOURCE}@${next} | ${ssh} zfs receive -u ${TARGETS.raw}`));
            base = next;
          }
        }
      } else {
        const stock = await syncoid('syncoid');
        syncoidStockIncremental.push(stock);
        if (stock.ok) {
          incSeconds = stock.seconds;
        } else {
          const fixed = await syncoid(`perl ${PATCHED_SYNCOID}`);
          if (!fixed.ok) throw new Error(`syncoid incremental failed, stock (${stock.error}) and with the fallback fixed (${fixed.error})`);
          incSeconds = fixed.seconds;
        }
      }
      incremental[tool].push(incSeconds);
      await destroyTarget(tool);
      log(`run ${r + 1}/${RUNS} ${toolLabel(tool).padEnd(17)} full ${fullSeconds.toFixed(2)} s, incremental ${incSeconds.toFixed(2)} s`);
    }
    runsDone = r + 1;
    const repMs = Date.now() - repStarted;
    if (r + 1 < RUNS && Date.now() - benchStarted + repMs + sweepEstimateMs > BUDGET_MS) {
      notes.push(`runs: ${runsDone} of ${RUNS} (a run took ${(repMs / 1000).toFixed(0)} s; another would exceed the ${BUDGET_MS / 1000} s budget with the sweep)`);
      break;
    }
  }
  await resetSource();
  await must(src, destroyScript(SOURCE));

  // --- Phase 2: the sweep ---------------------------------------------------------------------
  let sweep: Results['sweep'];
  let workerRssBeforeSweep = NaN;
  if (SWEEP > 0) {
    log(`sweep: creating ${SWEEP} datasets of 1 MiB`);
    await must(src, `set -e
      zfs create sp1/sweep
      for n in ${sweepNames.join(' ')}; do zfs create sp1/sweep/$n; head -c ${MiB} /dev/urandom > /sp1/sweep/$n/f; done
      sync
      zfs snapshot -r sp1/sweep@bench-raw`, { timeoutMs: 600_000 });
    await must(dst, 'zfs create sp2/rawsweep');
    const rawSeconds: number[] = [];
    for (const n of sweepNames) {
      rawSeconds.push(await timed(src, `zfs send sp1/sweep/${n}@bench-raw | ${ssh} zfs receive -u sp2/rawsweep/${n}`));
    }
    log(`sweep: ${SWEEP} raw sends one after another: ${rawSeconds.reduce((a, b) => a + b, 0).toFixed(1)} s in all`);
    await must(dst, destroyScript('sp2/rawsweep'));

    sampler.mark();
    workerRssBeforeSweep = memoryOf(worker.pid)?.rss ?? NaN;
    const t0 = Date.now();
    const settled = await Promise.allSettled(sweepNames.map(async (n) => {
      const started = Date.now();
      const { handle } = await startReplication(client, job(`sp1/sweep/${n}`, `sp2/sweep/${n}`));
      const result = (await handle.result()) as ReplicationResult;
      if (result.kind !== 'full') throw new Error(`${n}: ${result.kind}`);
      return { seconds: (Date.now() - started) / 1000, handle, started, ended: Date.now() };
    }));
    const seconds = (Date.now() - t0) / 1000;
    const workerPeakRss = sampler.mark();
    const failures = settled.flatMap((s, i) => (s.status === 'rejected' ? [`${sweepNames[i]}: ${(s.reason as Error).message.split('\n')[0]}`] : []));
    const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    let maxEvents = 0;
    const sweepBreakdowns: RunBreakdown[] = [];
    for (const [i, o] of ok.entries()) {
      const b = breakdown((await o.handle.fetchHistory()).events ?? [], o.started, o.ended);
      maxEvents = Math.max(maxEvents, b.events);
      noteRetries(`sweep ${sweepNames[i]}`, b);
      sweepBreakdowns.push(b);
    }
    sweep = { datasets: SWEEP, seconds, rawSeconds, failures, workerPeakRss, runSeconds: ok.map((o) => o.seconds), maxEvents, breakdowns: sweepBreakdowns };
    log(`sweep: ${SWEEP} workflow runs at once: ${seconds.toFixed(1)} s, ${failures.length} failed, worker peak RSS ${(workerPeakRss / MiB).toFixed(0)} MiB`);
  }

  const memory = memoryOf(worker.pid);
  return {
    facts: { ...facts, loadavgAtEnd: os.loadavg().map((l) => round(l, 2)) },
    runsDone, referencedBytes, full, incremental, workflowRuns, warmRuns, rawSnapshotSeconds, rawNoChange,
    syncoidStockIncremental, syncoidMessages, sweep,
    workerPeakRss: sampler.peak, workerHwm: memory?.hwm ?? NaN, retryInitialMs: template.retry.initialIntervalMs, ciphers, workerStartRss, workerRssBeforeSweep, notes,
  };
}

// ------------------------------------------------------------------------------------------------
// Report

function report(res: Results): void {
  const out: string[] = [];
  const f = res.facts;
  out.push(`esxi-zfs replication benchmark, ${f.date}`);
  out.push(`machine: ${f.cores} cores (${f.cpu}), ${f.memoryGiB} GiB, ${f.kernel}, node ${f.node}; zfs-fuse ${f.zfsFuse}, sanoid/syncoid ${f.sanoid}`);
  out.push(`load average at start ${(f.loadavgAtStart as number[]).join(' ')}, at end ${(f.loadavgAtEnd as number[]).join(' ')}; other lab bridges on the machine: ${f.otherLabs}`);
  out.push(`data: ${SIZE_MIB} MiB (${RANDOM_MIB} random + ${REPEATED_MIB} repeated), ${(res.referencedBytes / MiB).toFixed(0)} MiB referenced; change ${CHANGE_MIB} MiB overwritten in place; ${res.runsDone} run(s) per measurement, median shown`);
  out.push('');

  const m = (xs: number[]) => median(xs);
  const rawFull = m(res.full.raw);
  const rawInc = m(res.incremental.raw);
  const rawNo = m(res.rawNoChange);
  const noChange = m(res.workflowRuns.noChange.map((w) => w.seconds));
  const stockFailed = res.syncoidStockIncremental.some((s) => !s.ok);
  type Row = [string, string, number, number[], number | null];
  // Runs in which no activity was retried: what the product does when its SSH layer does not trip.
  const clean = (runs: WorkflowRun[]) => runs.filter((w) => w.breakdown.activities.every((a) => a.attempt === 1));
  const secondsOf = (runs: WorkflowRun[]) => runs.map((w) => w.seconds);
  const warmInc = m(secondsOf(res.warmRuns.incremental));
  const warmNo = m(secondsOf(res.warmRuns.noChange));
  const wf = { full: res.workflowRuns.full, incremental: res.workflowRuns.incremental, noChange: res.workflowRuns.noChange };
  const retried = { full: wf.full.length - clean(wf.full).length, incremental: wf.incremental.length - clean(wf.incremental).length, noChange: wf.noChange.length - clean(wf.noChange).length };
  // The stream alone, as sendSnapshot timed it (runs without retries: a retried send that finds the
  // snapshot already received reports no stream).
  const streamOf = (runs: WorkflowRun[]) => clean(runs).map((w) => w.breakdown.streamMs / 1000);
  const streamFull = streamOf(wf.full);
  const streamInc = streamOf(wf.incremental);
  const rows: Row[] = [
    ['workflow', 'full', m(res.full.workflow), res.full.workflow, m(res.full.workflow) / rawFull],
    ...(retried.full > 0 ? [['wf, no retry', 'full', m(secondsOf(clean(wf.full))), secondsOf(clean(wf.full)), m(secondsOf(clean(wf.full))) / rawFull] as Row] : []),
    ['wf stream', 'full', m(streamFull), streamFull, m(streamFull) / rawFull],
    ['raw', 'full', rawFull, res.full.raw, 1],
    ['raw, 1 MiB pipes', 'full', m(res.full.rawPipes), res.full.rawPipes, m(res.full.rawPipes) / rawFull],
    ['raw, ssh default', 'full', m(res.full.rawDefault), res.full.rawDefault, m(res.full.rawDefault) / rawFull],
    ['syncoid', 'full', m(res.full.syncoid), res.full.syncoid, m(res.full.syncoid) / rawFull],
    ['workflow', 'incremental', m(res.incremental.workflow), res.incremental.workflow, m(res.incremental.workflow) / rawInc],
    ...(retried.incremental > 0 ? [['wf, no retry', 'incremental', m(secondsOf(clean(wf.incremental))), secondsOf(clean(wf.incremental)), m(secondsOf(clean(wf.incremental))) / rawInc] as Row] : []),
    ['wf stream', 'incremental', m(streamInc), streamInc, m(streamInc) / rawInc],
    ['raw', 'incremental', rawInc, res.incremental.raw, 1],
    ['raw, 1 MiB pipes', 'incremental', m(res.incremental.rawPipes), res.incremental.rawPipes, m(res.incremental.rawPipes) / rawInc],
    ['raw, ssh default', 'incremental', m(res.incremental.rawDefault), res.incremental.rawDefault, m(res.incremental.rawDefault) / rawInc],
    [stockFailed ? 'syncoid*' : 'syncoid', 'incremental', m(res.incremental.syncoid), res.incremental.syncoid, m(res.incremental.syncoid) / rawInc],
    ['workflow', 'no-change', noChange, res.workflowRuns.noChange.map((w) => w.seconds), noChange / rawNo],
    ['wf, ssh open', 'incremental', warmInc, secondsOf(res.warmRuns.incremental), warmInc / rawInc],
    ['wf, ssh open', 'no-change', warmNo, secondsOf(res.warmRuns.noChange), warmNo / rawNo],
    ...(retried.noChange > 0 ? [['wf, no retry', 'no-change', m(secondsOf(clean(wf.noChange))), secondsOf(clean(wf.noChange)), m(secondsOf(clean(wf.noChange))) / rawNo] as Row] : []),
    ['raw', 'no-change', rawNo, res.rawNoChange, 1],
  ];
  const sweep = res.sweep;
  const rawSum = sweep ? sweep.rawSeconds.reduce((a, b) => a + b, 0) : NaN;
  if (sweep) {
    rows.push([`workflow`, `sweep ${sweep.datasets}`, sweep.seconds, [], sweep.seconds / rawSum]);
    rows.push([`raw`, `sweep ${sweep.datasets} (sum)`, rawSum, [], 1]);
  }
  out.push(`${'tool'.padEnd(18)}${'phase'.padEnd(20)}${'seconds'.padStart(9)}  ${'ratio to raw'.padStart(12)}  runs`);
  for (const [tool, phase, seconds, all, ratio] of rows) {
    out.push(`${tool.padEnd(18)}${phase.padEnd(20)}${seconds.toFixed(3).padStart(9)}  ${(ratio === null || !Number.isFinite(ratio) ? '-' : `${ratio.toFixed(3)}x`).padStart(12)}  ${all.map((x) => x.toFixed(2)).join(' ')}`);
  }
  out.push('wf stream: the stream alone inside the workflow runs without a retry (sendSnapshot\'s own timing of its zfs send | counter | ssh | zfs receive)');
  if (retried.full + retried.incremental + retried.noChange > 0) {
    out.push(`wf, no retry: the workflow runs in which no activity was retried (runs with a retry: full ${retried.full}/${wf.full.length}, incremental ${retried.incremental}/${wf.incremental.length}, no-change ${retried.noChange}/${wf.noChange.length}); the "workflow" rows count every run, as the operator sees them`);
  }
  if (stockFailed) {
    const err = res.syncoidStockIncremental.find((s) => !s.ok)?.error ?? '';
    out.push(`* stock syncoid ${res.facts.sanoid} cannot run an incremental against zfs-fuse (${err}); the times shown are a private copy with its fallback bug fixed (one line)`);
  }
  out.push('');
  if (sweep) {
    out.push(`sweep: ${sweep.datasets} datasets started at once, ${sweep.failures.length} failed; per-run times min ${Math.min(...sweep.runSeconds).toFixed(2)} median ${median(sweep.runSeconds).toFixed(2)} max ${Math.max(...sweep.runSeconds).toFixed(2)} s; raw per dataset median ${median(sweep.rawSeconds).toFixed(3)} s; history events (first runs) max ${sweep.maxEvents}`);
    for (const failure of sweep.failures.slice(0, 5)) out.push(`  failed: ${failure}`);
    const per = (f: (b: RunBreakdown) => number) => median(sweep.breakdowns.map(f)).toFixed(3);
    const queued = (b: RunBreakdown) => b.activities.reduce((n, a) => n + ((a.startedMs ?? a.scheduledMs) - a.scheduledMs), 0) / 1000;
    const ran = (name: string) => (b: RunBreakdown) => b.activities.filter((a) => a.name === name).reduce((n, a) => n + ((a.closedMs ?? 0) - (a.startedMs ?? 0)), 0) / 1000;
    out.push(`sweep runs, median per run: workflow ${per((b) => b.workflowMs / 1000)} s = activities running ${per((b) => b.activityRunningMs / 1000)} + orchestration ${per((b) => b.orchestrationMs / 1000)}; activities queued ${per(queued)} s in all; createSnapshot ${per(ran('createSnapshot'))}, readDatasetState ${per(ran('readDatasetState'))}, sendSnapshot ${per(ran('sendSnapshot'))} (stream ${per((b) => b.streamMs / 1000)}) s`);
  }
  if (retries.length > 0) {
    out.push(`activity retries: ${retries.length} (a retried activity waits its retry interval first: 2 s for the steps, ${res.retryInitialMs / 1000} s for sendSnapshot with the lab inventory's retry policy); by reason:`);
    for (const [reason, count] of retryReasons()) out.push(`  ${String(count).padStart(4)} x ${reason}`);
    for (const r of retries.slice(0, 3)) out.push(`  e.g. ${r.slice(0, 300)}`);
  }
  out.push(`worker (separate process): RSS ${(res.workerStartRss / MiB).toFixed(0)} MiB once started, ${(res.workerRssBeforeSweep / MiB).toFixed(0)} MiB before the sweep; peak RSS ${(res.workerPeakRss / MiB).toFixed(0)} MiB over the whole run${sweep ? `, ${(sweep.workerPeakRss / MiB).toFixed(0)} MiB during the sweep` : ''}; VmHWM at the end ${(res.workerHwm / MiB).toFixed(0)} MiB (sampled every 200 ms)`);
  out.push(`raw: \`zfs snapshot\` alone took median ${m(res.rawSnapshotSeconds).toFixed(3)} s (not in the raw full/incremental times; in the no-change floor)`);

  // Where the workflow's time goes: the median full, incremental and no-change runs.
  const medianRun = (runs: WorkflowRun[]) => [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor((runs.length - 1) / 2)];
  const picked: Record<'full' | 'incremental' | 'no-change', WorkflowRun | undefined> = { full: undefined, incremental: undefined, 'no-change': undefined };
  for (const [phase, runs] of [['full', wf.full], ['incremental', wf.incremental], ['no-change', wf.noChange]] as const) {
    const withoutRetries = clean(runs);
    const w = medianRun(withoutRetries.length > 0 ? withoutRetries : runs);
    picked[phase] = w;
    if (!w) continue;
    out.push('');
    out.push(`workflow ${phase} (median run${withoutRetries.length > 0 ? ' without retries' : ''}, ${w.seconds.toFixed(3)} s, ${(w.result.bytes / MiB).toFixed(1)} MiB counted on the source):`);
    for (const line of describeBreakdown(w.breakdown)) out.push(`  ${line}`);
  }
  const allRuns = [...res.workflowRuns.full, ...res.workflowRuns.incremental, ...res.workflowRuns.noChange];
  const maxEvents = Math.max(...allRuns.map((w) => w.breakdown.events));

  const notes = [...res.notes];
  notes.push(`raw: zfs send [-i] | ssh -c ${res.ciphers} root@target zfs receive -u (the product's ssh options and ciphers), no byte counter, no -p; raw, 1 MiB pipes: the same through the product's splice counter (1 MiB pipes on the source) into a 1 MiB stdin pipe on the target (what the receive guard does); raw, ssh default: the same as raw with OpenSSH's default cipher; the workflow sends with -p through its byte counter, as the replication user via its receive guard and sudo; syncoid gets the same ciphers (--sshcipher)`);
  notes.push('workflow rows: every run starts cold, its source\'s shared ssh connection to the target closed first (the first dataset of a schedule tick); "wf, ssh open": the run finds the connection the run before it left open (kept 60 s: a host\'s other datasets in the same tick)');
  notes.push(`syncoid: run as root on the source with its defaults (lzop compression, mbuffer, pv, a sync snapshot per run, receive -F): its full sends the oldest snapshot (@bench-a) then an -I increment to its sync snapshot`);
  for (const message of res.syncoidMessages) notes.push(`syncoid said: ${message}`);
  out.push('');
  out.push('notes:');
  for (const note of notes) out.push(`  - ${note}`);
  for (const line of out) console.log(line);

  if (args.json) {
    const wb = (w: WorkflowRun | undefined) => w && {
      seconds: round(w.seconds), streamSeconds: round(secs(w.breakdown.streamMs)), activitiesRunningSeconds: round(secs(w.breakdown.activityRunningMs)),
      orchestrationSeconds: round(secs(w.breakdown.orchestrationMs)), clientOverheadSeconds: round(secs(w.breakdown.startLatencyMs + w.breakdown.resultLatencyMs)),
      events: w.breakdown.events,
      activities: w.breakdown.activities.map((a) => ({ name: a.name, queuedSeconds: round(secs((a.startedMs ?? NaN) - a.scheduledMs)), ranSeconds: round(secs((a.closedMs ?? NaN) - (a.startedMs ?? NaN))), ...(a.streamMs !== undefined ? { streamSeconds: round(secs(a.streamMs)) } : {}) })),
    };
    const json = {
      date: f.date,
      machine: f,
      sizeMiB: SIZE_MIB,
      referencedMiB: round(res.referencedBytes / MiB, 1),
      changeMiB: CHANGE_MIB,
      runs: res.runsDone,
      fullRatio: round(m(res.full.workflow) / rawFull),
      incrementalRatio: round(m(res.incremental.workflow) / rawInc),
      noChangeSeconds: round(noChange),
      sharedConnectionOpen: {
        incrementalRatio: round(warmInc / rawInc),
        noChangeSeconds: round(warmNo),
        incremental: secondsOf(res.warmRuns.incremental).map((x) => round(x)),
        noChange: secondsOf(res.warmRuns.noChange).map((x) => round(x)),
      },
      withoutRetries: {
        fullRatio: round(m(secondsOf(clean(wf.full))) / rawFull),
        incrementalRatio: round(m(secondsOf(clean(wf.incremental))) / rawInc),
        noChangeSeconds: round(m(secondsOf(clean(wf.noChange)))),
        runsWithRetries: retried,
      },
      streamRatio: { full: round(m(streamFull) / rawFull), incremental: round(m(streamInc) / rawInc) },
      rawNoChangeSeconds: round(rawNo),
      seconds: {
        full: Object.fromEntries(TOOLS.map((t) => [t, res.full[t].map((x) => round(x))])),
        incremental: Object.fromEntries(TOOLS.map((t) => [t, res.incremental[t].map((x) => round(x))])),
        workflowStream: { full: streamFull.map((x) => round(x)), incremental: streamInc.map((x) => round(x)) },
        noChange: { workflow: res.workflowRuns.noChange.map((w) => round(w.seconds)), raw: res.rawNoChange.map((x) => round(x)) },
        rawSnapshot: res.rawSnapshotSeconds.map((x) => round(x)),
      },
      rawPipes: { fullRatio: round(m(res.full.rawPipes) / rawFull), incrementalRatio: round(m(res.incremental.rawPipes) / rawInc) },
      workflowToRawPipes: { fullRatio: round(m(res.full.workflow) / m(res.full.rawPipes)), incrementalRatio: round(m(res.incremental.workflow) / m(res.incremental.rawPipes)) },
      rawSshDefault: { fullRatio: round(m(res.full.rawDefault) / rawFull), incrementalRatio: round(m(res.incremental.rawDefault) / rawInc) },
      syncoid: {
        fullRatio: round(m(res.full.syncoid) / rawFull),
        incrementalRatio: stockFailed ? null : round(m(res.incremental.syncoid) / rawInc),
        incrementalRatioWithFallbackFix: round(m(res.incremental.syncoid) / rawInc),
        stockIncrementalWorks: !stockFailed,
        notes: [...res.syncoidMessages, ...(stockFailed ? [`stock incremental fails: ${res.syncoidStockIncremental.find((s) => !s.ok)?.error}`] : [])],
      },
      sweep: sweep && {
        datasets: sweep.datasets,
        seconds: round(sweep.seconds),
        rawSumSeconds: round(rawSum),
        ratio: round(sweep.seconds / rawSum),
        workerPeakRssMiB: round(sweep.workerPeakRss / MiB, 1),
        failures: sweep.failures.length,
        runSecondsMedian: round(median(sweep.runSeconds)),
        runSecondsMax: round(Math.max(...sweep.runSeconds)),
        activityRetries: retries.filter((r) => r.startsWith('sweep ')).length,
        maxHistoryEvents: sweep.maxEvents,
      },
      worker: { startRssMiB: round(res.workerStartRss / MiB, 1), rssBeforeSweepMiB: round(res.workerRssBeforeSweep / MiB, 1), peakRssMiB: round(res.workerPeakRss / MiB, 1), vmHwmMiB: round(res.workerHwm / MiB, 1) },
      maxHistoryEvents: maxEvents,
      activityRetries: retries.length,
      retryReasons: Object.fromEntries(retryReasons()),
      breakdown: { full: wb(picked.full), incremental: wb(picked.incremental), noChange: wb(picked['no-change']) },
      notes,
      totalSeconds: round((Date.now() - benchStarted) / 1000, 1),
    };
    console.log(JSON.stringify(json));
  }
}

async function main(): Promise<void> {
  let results: Results | undefined;
  try {
    results = await bench();
  } finally {
    await cleanup();
  }
  log(`done in ${((Date.now() - benchStarted) / 1000).toFixed(0)} s`);
  report(results);
}

main().catch(async (error) => {
  if (!interrupted) process.stderr.write(`bench-replication: ${(error as Error).stack ?? error}\n`);
  await cleanup();
  process.exit(interrupted ? 130 : 1);
});
