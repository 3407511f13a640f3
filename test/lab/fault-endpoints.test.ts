/**
 * Faults of the network and the endpoints (issue 13), on the lab (two storage hosts with real sshd
 * and zfs-fuse, configured by configureStorage so replication runs over the storage network), the
 * lab's vSphere simulator and a real Temporal dev server:
 *
 * - the target's storage NIC (eth1 in its netns) down for a while mid-send: the run completes, the data equal;
 * - the target storage host down (its sshd stopped) for the whole retry budget: a clear failure naming
 *   it, nothing lost on either side; back, the next run catches up incrementally;
 * - the vSphere SDK answering 503 for a while during enablePassthrough: retried, completed;
 * - a reboot that takes 3x the expected time: the wait rides it out, one reboot, passthrough active.
 *
 * Each records its result for docs/reliability.md (test/helpers/reliability.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { labDown, labUp, type LabHostState, type LabState } from '../../lab/lab';
import { runHook } from '../../lab/vsphere-hook';
import { startVsphereSim, type VsphereSim } from '../../lab/vsphere';
import { requireInventory } from '../../inventory/load';
import { replicationJobs, replicationTrustInput } from '../../inventory/jobs';
import type { ReplicationJob, ReplicationResult } from '../../core/replication/shared';
import { passthroughStatusQuery, type EnablePassthroughInput, type PassthroughStatus } from '../../core/passthrough/shared';
import { enablePassthrough } from '../../workflows';
import { startReplication } from '../../scripts/replication-start';
import { failureMessage } from '../../scripts/failure-message';
import { configureLab } from '../helpers/lab-configure';
import { on, scenarioJob } from '../helpers/lab-replication';
import { recorded } from '../helpers/reliability';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';

const LAB_DIR = path.resolve(__dirname, '../../.data/lab-fault-endpoints-test');
const PASSWORD_ENV = 'ESXI_ZFS_TEST_VSPHERE_PASSWORD_FAULTS';
const SCENARIOS = ['linkdown', 'hostdown'];

let lab: LabState;
let sim: VsphereSim;
let temporal: TestTemporal;
let simDir: string;
let template: ReplicationJob;
let src: LabHostState;
let dst: LabHostState;

before(async () => {
  simDir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-fault-endpoints-'));
  [lab, sim, temporal] = await Promise.all([
    labUp({ names: ['flt-san-01', 'flt-san-02'], dir: LAB_DIR }),
    startVsphereSim({ dir: simDir, hosts: [{ name: 'vh1', address: '10.213.9.31', rebootSeconds: 2 }, { name: 'vh2', address: '10.213.9.32', rebootSeconds: 5 }] }),
    startTestTemporal('fault-endpoints'),
  ]);
  process.env[PASSWORD_ENV] = sim.password;
  [src, dst] = lab.hosts as [LabHostState, LabHostState];
  await configureLab(temporal, lab);
  await on(src, 'zfs create sp1/t');
  await on(dst, 'zfs create sp2/r');
  const inventory = requireInventory(lab.inventoryFile);
  template = replicationJobs(inventory)[0]!;
  const trust = replicationTrustInput(inventory);
  trust.edges = SCENARIOS.map((name) => ({ source: template.source.host, target: template.target.host, targetDataset: `sp2/r/${name}` }));
  await temporal.withWorker(() => temporal.client.workflow.execute('setupReplicationTrust', { taskQueue: temporal.taskQueue, workflowId: 'fault-trust', args: [trust] }));
});

after(async () => {
  await temporal?.stop();
  await sim?.stop();
  if (simDir) rmSync(simDir, { recursive: true, force: true });
  await labDown({ dir: LAB_DIR });
});

/** Polls `probe` every 100 ms until it returns a value, for at most `timeoutMs`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `name guid` of a dataset's snapshots, oldest first. */
async function snapshots(host: LabHostState, dataset: string): Promise<string[]> {
  const out = await on(host, `zfs get -H -p -d 1 -o name,property,value guid ${dataset} | grep @ | cut -f1,3 || true`);
  return out.trim().split('\n').filter(Boolean).map((l) => l.replace(`${dataset}@`, '').replace('\t', ' '));
}

/** md5 of every file of a replicated snapshot (through a throw-away clone) or of the source's live dataset. */
async function replicaChecksums(snapshot: string): Promise<string> {
  const clone = `sp2/verify-${snapshot.split('@')[0]!.replaceAll('/', '-')}`;
  return on(dst, `set -e
    zfs clone ${snapshot} ${clone}
    (cd "$(zfs get -H -o value mountpoint ${clone})" && find . -type f | sort | xargs md5sum)
    for i in 1 2 3 4 5 6; do zfs destroy ${clone} 2>/dev/null && exit 0; sleep 0.5; done
    zfs destroy -f ${clone}`);
}
const sourceChecksums = (dataset: string) => on(src, `cd /${dataset} && find . -type f | sort | xargs md5sum`);

/** The attempt that completed `activity` (a history records only the last attempt's start). */
const lastAttempt = async (handle: WorkflowHandle, activity: string): Promise<number> => {
  const events = (await handle.fetchHistory()).events!;
  const scheduled = new Set(events.flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name === activity ? [String(e.eventId)] : [])));
  return Math.max(0, ...events.flatMap((e) => (e.activityTaskStartedEventAttributes && scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)) ? [e.activityTaskStartedEventAttributes.attempt ?? 1] : [])));
};

describe('replication over a failing network and host', () => {
  test('the target\'s storage link down for 6 s mid-send: the run completes, the data equal', recorded('storage-link-down/replication', async (r) => {
    await on(src, 'zfs create sp1/t/linkdown && head -c 100663296 /dev/urandom > /sp1/t/linkdown/big');
    const job = scenarioJob(template, 'linkdown', { stallTimeoutMs: 3000 });
    const { handle } = await startReplication(temporal.client, job);
    const result = await temporal.withWorker(async () => {
      await until('the send to start', async () => ((await handle.describe()).raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'sendSnapshot' && a.heartbeatDetails) || undefined);
      await on(dst, 'ip link set eth1 down');
      try {
        r.happened('eth1 of the target (its storage NIC) was taken down while the stream ran, for 6 s.');
        await new Promise((resolve) => setTimeout(resolve, 6000));
      } finally {
        await on(dst, 'ip link set eth1 up');
      }
      r.recoveryStarted();
      const done = (await handle.result()) as ReplicationResult;
      r.recovered();
      return done;
    });
    const attempt = await lastAttempt(handle, 'sendSnapshot');
    r.happened(`The send completed in attempt ${attempt}: ${attempt > 1 ? 'the stalled stream was detected (stallTimeout 3 s), stopped and sent again' : 'the stream resumed when the link came back'}.`);
    assert.equal(result.kind, 'full');
    assert.equal(await replicaChecksums(`sp2/r/linkdown@${result.snapshot}`), await sourceChecksums('sp1/t/linkdown'));
    r.verified('the replica\'s files have the source\'s checksums (96 MiB)');
    assert.deepEqual(await snapshots(dst, 'sp2/r/linkdown'), await snapshots(src, 'sp1/t/linkdown'));
    r.verified('the same snapshots (by guid) on both sides: no partial or duplicate snapshot');
  }));

  test('the target host down for the whole retry budget: a clear failure naming it, nothing lost; back, the next run catches up', recorded('storage-host-down/replication', async (r) => {
    await on(src, 'zfs create sp1/t/hostdown && head -c 8388608 /dev/urandom > /sp1/t/hostdown/a');
    const job = scenarioJob(template, 'hostdown', { retry: { maximumAttempts: 3, initialIntervalMs: 500, maximumIntervalMs: 1000 } });
    const firstStarted = Date.now();
    const first = await temporal.withWorker(async () => (await startReplication(temporal.client, job)).handle.result() as Promise<ReplicationResult>);
    const firstSeconds = Math.round((Date.now() - firstStarted) / 100) / 10;
    await on(src, 'head -c 4194304 /dev/urandom > /sp1/t/hostdown/b');
    const sourceBefore = await snapshots(src, 'sp1/t/hostdown');
    const targetBefore = await snapshots(dst, 'sp2/r/hostdown');

    await runHook(LAB_DIR, 'vm-off', ['uss2', dst.name]);
    r.happened(`${dst.name}'s sshd was stopped (as the simulator's power-off hook does) for the whole retry budget (3 attempts, 0.5-1 s apart).`);
    let message: string | undefined;
    try {
      const started = Date.now();
      const error = await temporal.withWorker(async () => (await startReplication(temporal.client, job)).handle.result().then(() => undefined, (e: unknown) => e));
      assert.ok(error instanceof WorkflowFailedError, String(error));
      message = failureMessage(error);
      r.happened(`The run failed after ${Math.round((Date.now() - started) / 100) / 10} s: "${message}".`);
    } finally {
      await runHook(LAB_DIR, 'vm-on', ['uss2', dst.name]);
    }
    assert.match(message ?? '', new RegExp(dst.name), message);
    r.verified(`the failure names the target host ${dst.name}`);
    assert.deepEqual(await snapshots(dst, 'sp2/r/hostdown'), targetBefore);
    r.verified('the target\'s snapshots are unchanged');
    const sourceAfter = await snapshots(src, 'sp1/t/hostdown');
    assert.deepEqual(sourceAfter.filter((s) => sourceBefore.includes(s)), sourceBefore, 'every snapshot of the source is still there');
    assert.ok(sourceAfter.length <= sourceBefore.length + 1, `at most the failed run's own snapshot was added: ${sourceAfter.join(', ')}`);
    r.verified('every source snapshot is still there, at most the failed run\'s new one added');

    r.recoveryStarted();
    const nextStarted = Date.now();
    const next = await temporal.withWorker(async () => (await startReplication(temporal.client, job)).handle.result() as Promise<ReplicationResult>);
    r.recovered();
    r.happened(`Back, the next run took ${Math.round((Date.now() - nextStarted) / 100) / 10} s (the first, full run before the fault: ${firstSeconds} s).`);
    assert.equal(next.kind, 'incremental');
    assert.equal(next.base, first.snapshot);
    r.verified(`the next run after the host was back was incremental from the last common snapshot (${first.snapshot})`);
    assert.equal(await replicaChecksums(`sp2/r/hostdown@${next.snapshot}`), await sourceChecksums('sp1/t/hostdown'));
    r.verified('the replica\'s files have the source\'s checksums');
  }));
});

describe('vSphere endpoint and reboot faults (enablePassthrough)', () => {
  const input = (host: string, over: Partial<EnablePassthroughInput> = {}): EnablePassthroughInput => ({
    host: { name: host, vsphere: { url: sim.url, credential: { user: sim.username, passwordEnv: PASSWORD_ENV }, thumbprint: sim.thumbprint } },
    device: { vendorId: '0x19e3', classId: '0x0100' },
    rebootTimeoutMs: 60_000,
    maintenanceMode: true,
    runningVms: 'refuse',
    ...over,
  });
  const start = (args: EnablePassthroughInput) => temporal.client.workflow.start(enablePassthrough, { args: [args], taskQueue: temporal.taskQueue, workflowId: `fault-passthrough-${args.host.name}-${process.pid}` });
  const status = (handle: WorkflowHandle<typeof enablePassthrough>) => handle.query(passthroughStatusQuery);
  const active = async (host: string) => (await sim.control.host(host)).passthrough.some((p) => p.passthruCapable && p.passthruActive);

  test('the SDK answering 503 for 6 s at the start and 10 s from the reboot on: the first call is retried, the wait rides it out, the run completes', recorded('vsphere-down/provision', async (r) => {
    const result = await temporal.withWorker(async () => {
      await sim.control.setUnavailable(6);
      const handle = await start(input('vh1'));
      r.happened('The vSphere SDK endpoint answered every call with HTTP 503 for 6 s as the run started (findPassthroughDevice retried, 2 s then 4 s apart),');
      await until('the reboot wait', async () => ((await status(handle)).step === 'waitForHostReboot' ? true : undefined));
      await sim.control.setUnavailable(10);
      r.happened('then again for 10 s from the host\'s reboot on (the reboot wait counts an endpoint that is down as not back).');
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      r.recoveryStarted();
      const done = await handle.result();
      r.recovered();
      return done;
    });
    assert.equal(result.reboots, 1);
    assert.equal((await sim.control.host('vh1')).reboots, 1);
    r.verified('one reboot (no reboot repeated by a retry)');
    assert.ok(await active('vh1'));
    assert.equal((await sim.control.host('vh1')).inMaintenanceMode, false);
    r.verified('passthrough active, the host out of maintenance mode');
  }));

  test('a reboot that takes 3x the expected time (15 s for 5 s): the wait rides it out, one reboot, passthrough active', recorded('reboot-slow/passthrough', async (r) => {
    await sim.control.setRebootSeconds('vh2', 15);
    const seen: PassthroughStatus[] = [];
    const result = await temporal.withWorker(async () => {
      const handle = await start(input('vh2'));
      await until('the host back', async () => {
        const s = await status(handle);
        seen.push(s);
        const host = await sim.control.host('vh2');
        return host.reboots === 1 && host.connectionState === 'connected' ? true : undefined;
      });
      r.happened('The host stayed down 15 s after RebootHost_Task (5 s expected: its usual reboot).');
      r.recoveryStarted();
      const done = await handle.result();
      r.recovered();
      return done;
    });
    assert.ok(seen.every((s) => s.waitingForOperator === undefined), 'never asked the operator');
    r.verified('the run never asked for the operator (rebootTimeout 1 min)');
    assert.equal(result.reboots, 1);
    assert.equal((await sim.control.host('vh2')).reboots, 1);
    r.verified('one reboot');
    assert.ok(await active('vh2'));
    r.verified('passthrough active after the reboot');
  }));
});
