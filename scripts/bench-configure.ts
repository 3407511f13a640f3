/**
 * npm run bench:configure [-- --runs 3 --json]
 *
 * configureStorage of two lab hosts (.data/lab-bench-configure), the product's worker a separate
 * process on an embedded dev server, against the same work done by hand over SSH:
 *
 *   from blank   both hosts at once: `esxi-zfs configure` as the operator starts it (the
 *                workflows started, their results awaited), from hosts with eth1 blank, no hosts
 *                block, no pool
 *   no change    the same again at once: each host's time from the start to its result
 *   direct       from blank again, one `ssh root@host sh` per host at once, running what
 *                configureStorage changed: the eth1 file (its text as the product wrote it) and
 *                `ip addr add`, the /etc/hosts block, `zpool create`, `zfs create -p -o`,
 *                `zfs set sharenfs` (the value the product set). It reads nothing first. The run
 *                after it must change nothing: that is the proof it did the same work.
 *
 * Between measurements each host is put back to blank (pool destroyed, eth1's address and file,
 * the hosts block removed). One round first is not measured (the worker's first workflow of its
 * kind, the lab's first pool and export). The median of --runs. Targets (issue 10): from blank within 1.5x the
 * direct commands; a no-change run under 2 s per host.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { ConfigureStorageInput, ConfigureStorageResult, DiskSelector, VdevSpec } from '../core/configure/shared';
import { configureStorageInput } from '../inventory/configure';
import { requireInventory } from '../inventory/load';
import { storageVms } from '../inventory/targets';
import { run } from '../lab/exec';
import { labDown, labUp, type LabHostState, type LabState } from '../lab/lab';
import { TASK_QUEUE } from '../workers/config';
import { failureMessage } from './failure-message';
import { mustOnHost } from './bench/host';
import { benchStarted, log } from './bench/log';
import { median, round } from './bench/numbers';
import { startBenchServer, startWorkerProcess } from './bench/processes';
import { BenchResources, stopOnSignals } from './bench/resources';
import { breakdown, describeBreakdown, type RunBreakdown } from './bench/history';

const REPO = path.resolve(__dirname, '..');
const LAB_DIR = path.join(REPO, '.data', 'lab-bench-configure');
const HOSTS = ['conf-san-01', 'conf-san-02'];

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be an integer >= 1`);
  return value;
}
const runs = option('--runs', 3);
const json = process.argv.includes('--json');
const resources = new BenchResources(LAB_DIR, undefined);
stopOnSignals(resources);

const ETH1_FILE = '/etc/network/interfaces.d/esxi-zfs-eth1';
const seconds = (t0: number) => (performance.now() - t0) / 1000;
const changesOf = (r: ConfigureStorageResult) => r.steps.reduce((n, s) => n + s.report.changed.length, 0);

/** Back to blank: no pool and no ZFS label left on its disks, eth1 without address or file, no hosts block, no export directories. */
async function blank(host: LabHostState, input: ConfigureStorageInput): Promise<void> {
  const { pool } = input;
  const disks = [...pool.data, ...pool.log].flatMap((v) => v.disks).concat(pool.cache, pool.spares).map((d) => d.disk);
  await mustOnHost(host, `set -e
    # The NFS server holds what it exports: unshare first, or the pool is busy (a moment after, too).
    if zpool list ${pool.name} >/dev/null 2>&1; then
      zfs unshare -a
      for i in 1 2 3 4 5 6 7 8 9 10; do zpool destroy -f ${pool.name} 2>/dev/null && break; sleep 0.5; done
      if zpool list ${pool.name} >/dev/null 2>&1; then zpool destroy -f ${pool.name}; fi
    fi
    # ZFS keeps four labels, two in the first and two in the last 512 KiB of a disk.
    for d in ${disks.join(' ')}; do
      size=$(blockdev --getsize64 "$d" 2>/dev/null || stat -c %s "$d")
      dd if=/dev/zero of="$d" bs=1M count=1 conv=notrunc status=none
      dd if=/dev/zero of="$d" bs=1M count=1 seek=$(( size / 1048576 - 1 )) conv=notrunc status=none
    done
    ip -4 addr flush dev eth1 scope global
    rm -f ${ETH1_FILE}
    sed -i '/^# esxi-zfs begin/,/^# esxi-zfs end/d' /etc/hosts
    rm -rf /export`);
}

interface BothRuns {
  wall: number;
  perHost: number[];
  results: ConfigureStorageResult[];
  /** The first host's run: where its time went, from its history. */
  breakdown: RunBreakdown;
}

/** Both hosts' configureStorage at once; each host's seconds from the start to its result. */
async function configureBoth(client: Client, inputs: ConfigureStorageInput[], label: string): Promise<BothRuns> {
  const t0 = performance.now();
  const started = Date.now();
  const perHost: number[] = [];
  const ended: number[] = [];
  const handles = await Promise.all(inputs.map((input) => client.workflow.start('configureStorage', {
    taskQueue: TASK_QUEUE, workflowId: `bench-configure-${label}-${input.host.name}`, args: [input],
  })));
  const results = await Promise.all(handles.map(async (handle, i) => {
    const result = (await handle.result()) as ConfigureStorageResult;
    perHost[i] = seconds(t0);
    ended[i] = Date.now();
    return result;
  }));
  const wall = seconds(t0);
  const history = await handles[0]!.fetchHistory();
  return { wall, perHost, results, breakdown: breakdown(history.events ?? [], started, ended[0]!) };
}

/** What configureStorage left on a host, as the commands that make it (the direct run's script). */
async function directScript(host: LabHostState, input: ConfigureStorageInput): Promise<string> {
  const eth1 = await mustOnHost(host, `cat ${ETH1_FILE}`);
  const hostsBlock = await mustOnHost(host, "sed -n '/^# esxi-zfs begin/,/^# esxi-zfs end/p' /etc/hosts");
  const nic = input.network.nics.find((n) => n.device === 'eth1');
  if (!nic) throw new Error(`${host.name}: the lab inventory has no eth1`);
  const { pool } = input;
  const disk = (d: DiskSelector) => {
    if (d.disk === undefined) throw new Error(`${host.name}: the direct commands take disks by name, not ${JSON.stringify(d)}`);
    return d.disk;
  };
  const vdevs = (vs: VdevSpec[]) => vs.map((v) => `${v.kind === 'disk' ? '' : `${v.kind} `}${v.disks.map(disk).join(' ')}`).join(' ');
  const lines = [
    'set -e',
    `cat > ${ETH1_FILE} <<'EOF'\n${eth1.trimEnd()}\nEOF`,
    `ip addr add ${nic.address} dev eth1`,
    `cat >> /etc/hosts <<'EOF'\n${hostsBlock.trimEnd()}\nEOF`,
    `zpool create ${pool.name} ${vdevs(pool.data)}${pool.log.length ? ` log ${vdevs(pool.log)}` : ''}${pool.cache.length ? ` cache ${pool.cache.map(disk).join(' ')}` : ''}`,
  ];
  for (const d of input.datasets) {
    const props = [...(d.mountpoint ? [`mountpoint=${d.mountpoint}`] : []), ...Object.entries(d.properties).map(([k, v]) => `${k}=${v}`)];
    lines.push(`zfs create -p ${props.map((p) => `-o '${p}'`).join(' ')} ${d.name}`);
    if (d.share) {
      const sharenfs = (await mustOnHost(host, `zfs get -H -o value sharenfs ${d.name}`)).trim();
      lines.push(`zfs set sharenfs='${sharenfs}' ${d.name}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The script over one SSH session from this machine to the host's management address. */
async function overSsh(lab: LabState, host: LabHostState, script: string): Promise<void> {
  const r = await run('ssh', ['-i', lab.privateKeyFile, '-o', `UserKnownHostsFile=${lab.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', `root@${host.address}`, 'sh -s'], { input: script, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`${host.name}: direct commands failed: ${r.stderr}`);
}

async function main(): Promise<void> {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'esxi-zfs-bench-configure-'));
  resources.tmpDir = tmpDir;
  await labDown({ dir: LAB_DIR });
  const [lab, server] = await Promise.all([labUp({ names: HOSTS, dir: LAB_DIR }), startBenchServer(path.join(tmpDir, 'temporal.sqlite'))]);
  resources.lab = lab;
  resources.server = server;
  resources.worker = await startWorkerProcess({
    repo: REPO, address: server.address, namespace: server.namespace, taskQueue: TASK_QUEUE, uiUrl: server.uiUrl, logFile: path.join(tmpDir, 'worker.log'),
  });
  const connection = await Connection.connect({ address: server.address });
  resources.connection = connection;
  const client = new Client({ connection, namespace: server.namespace });
  const inventory = requireInventory(lab.inventoryFile);
  const inputs = storageVms(inventory).map((vm) => configureStorageInput(inventory, vm.name));
  const hosts = inputs.map((input) => lab.hosts.find((h) => h.name === input.host.name)!);
  const blankAll = () => Promise.all(hosts.map((h, i) => blank(h, inputs[i]!)));
  log(`lab up: ${hosts.map((h) => h.name).join(', ')}; worker pid ${resources.worker.pid}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const breakdowns: { blank?: RunBreakdown; again?: RunBreakdown } = {};
  const fromBlank: number[] = [];
  const noChange: number[][] = [];
  const direct: number[] = [];
  const changes: number[] = [];
  await blankAll();
  await configureBoth(client, inputs, 'warm-up');
  log('warm-up round done (not measured)');
  for (let r = 0; r < runs; r++) {
    await blankAll();
    const first = await configureBoth(client, inputs, `blank-${r}`);
    fromBlank.push(first.wall);
    changes.push(...first.results.map(changesOf));
    const again = await configureBoth(client, inputs, `again-${r}`);
    if (again.results.some((x) => changesOf(x) > 0)) throw new Error(`the second run changed something: ${JSON.stringify(again.results)}`);
    noChange.push(again.perHost);
    if (r === runs - 1) Object.assign(breakdowns, { blank: first.breakdown, again: again.breakdown });

    const scripts = await Promise.all(hosts.map((h, i) => directScript(h, inputs[i]!)));
    await blankAll();
    const t0 = performance.now();
    await Promise.all(hosts.map((h, i) => overSsh(lab, h, scripts[i]!)));
    direct.push(seconds(t0));
    const check = await configureBoth(client, inputs, `after-direct-${r}`);
    const left = check.results.filter((x) => changesOf(x) > 0);
    if (left.length > 0) throw new Error(`the direct commands did not do the same work: configureStorage then changed ${JSON.stringify(left)}`);
    noChange.push(check.perHost);
    log(`run ${r + 1}/${runs}: from blank ${first.wall.toFixed(2)} s (${changes.at(-1)} changes per host), no change ${again.perHost.map((s) => s.toFixed(2)).join(' / ')} s, direct ${direct.at(-1)!.toFixed(2)} s`);
  }

  const perHostNoChange = hosts.map((_, i) => median(noChange.map((x) => x[i]!)));
  const result = {
    date: new Date().toISOString(), cores: os.cpus().length, loadavgAtEnd: os.loadavg().map((l) => round(l, 2)), runs,
    fromBlankSeconds: round(median(fromBlank)), directSeconds: round(median(direct)),
    ratio: round(median(fromBlank) / median(direct), 2),
    noChangeSecondsPerHost: Object.fromEntries(hosts.map((h, i) => [h.name, round(perHostNoChange[i]!)])),
    changesFromBlankPerHost: changes.slice(0, hosts.length),
  };
  console.log(`configureStorage, 2 lab hosts at once (median of ${runs}; load at end ${result.loadavgAtEnd.join(' ')}):`);
  console.log(`  from blank       ${result.fromBlankSeconds} s`);
  console.log(`  direct over SSH  ${result.directSeconds} s   (ratio ${result.ratio}; target <= 1.5)`);
  for (const [name, s] of Object.entries(result.noChangeSecondsPerHost)) console.log(`  no change        ${s} s  ${name} (target < 2)`);
  for (const [what, b] of [['from blank', breakdowns.blank], ['no change', breakdowns.again]] as const) {
    if (!b) continue;
    console.log(`\n${hosts[0]!.name}, ${what} (the last run), from its history:`);
    for (const line of describeBreakdown(b)) console.log(`  ${line}`);
  }
  if (json) console.log(JSON.stringify(result));
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench-configure: ${failureMessage(error)}\n${(error as Error).stack ?? ''}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await resources.cleanup();
    log(`done in ${((Date.now() - benchStarted) / 1000).toFixed(0)} s`);
  });
