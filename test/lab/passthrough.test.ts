/**
 * enablePassthrough against the lab's vSphere (govmomi's simulator with the lab's passthrough,
 * reboot and maintenance mode: lab/vsphere) over HTTPS and SOAP, with a real Temporal dev server
 * and the product's activities: from a fresh host and again, a host that reverts passthrough,
 * a host that does not come back (then hostIsBack), the worker stopped during the reboot wait, the
 * Temporal server restarted during it, wrong credentials and a wrong thumbprint.
 */
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { enablePassthrough } from '../../workflows';
import { Failure } from '../../core/failures';
import { hostIsBackSignal, passthroughStatusQuery, type EnablePassthroughInput, type PassthroughStatus } from '../../core/passthrough/shared';
import { startVsphereSim, type VsphereSim } from '../../lab/vsphere';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';
import { recordHistory } from '../helpers/record-history';
import { recorded } from '../helpers/reliability';

const PASSWORD_ENV = 'ESXI_ZFS_TEST_VSPHERE_PASSWORD';
const HOSTS = ['vh1', 'vh2', 'vh3', 'vh4', 'vh5', 'vh6', 'vh7'];
let sim: VsphereSim;
let temporal: TestTemporal;
let dir: string;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-passthrough-'));
  sim = await startVsphereSim({ dir, hosts: HOSTS.map((name, i) => ({ name, address: `10.213.9.${i + 1}`, rebootSeconds: 2 })) });
  process.env[PASSWORD_ENV] = sim.password;
  temporal = await startTestTemporal('passthrough');
});

after(async () => {
  await temporal?.stop();
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function input(host: string, over: Partial<EnablePassthroughInput> = {}): EnablePassthroughInput {
  return {
    host: { name: host, vsphere: { url: sim.url, credential: { user: sim.username, passwordEnv: PASSWORD_ENV }, thumbprint: sim.thumbprint } },
    device: { vendorId: '0x19e3', classId: '0x0100' },
    rebootTimeoutMs: 60_000,
    maintenanceMode: true,
    runningVms: 'refuse',
    ...over,
  };
}

let runs = 0;
function start(args: EnablePassthroughInput): Promise<WorkflowHandle<typeof enablePassthrough>> {
  return temporal.client.workflow.start(enablePassthrough, { args: [args], taskQueue: temporal.taskQueue, workflowId: `passthrough-lab-${process.pid}-${++runs}` });
}

async function until(handle: WorkflowHandle<typeof enablePassthrough>, done: (s: PassthroughStatus) => boolean, what: string): Promise<PassthroughStatus> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await handle.query(passthroughStatusQuery);
    if (done(status)) return status;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const DX1 = '0000:0b:00.0';
const device = async (host: string) => (await sim.control.host(host)).passthrough.find((p) => p.passthruCapable && p.id === DX1) ?? (await sim.control.host(host)).passthrough.find((p) => p.passthruCapable)!;

test('from a fresh host: enabled, maintenance mode, one reboot waited out, passthruActive; a second run changes nothing', async () => {
  const firstRun = await start(input('vh1'));
  const first = await temporal.withWorker(() => firstRun.result());
  await recordHistory(temporal.client, firstRun.workflowId, 'enablePassthrough-reboot');
  assert.equal(first.reboots, 1);
  const host = await sim.control.host('vh1');
  assert.equal(host.reboots, 1);
  assert.equal(host.connectionState, 'connected');
  assert.equal(host.inMaintenanceMode, false, 'maintenance mode left after the reboot');
  const x1 = await device('vh1');
  assert.deepEqual([x1.passthruEnabled, x1.passthruActive], [true, true]);
  assert.deepEqual(first.steps.map((s) => s.step), [
    'findPassthroughDevice', 'updatePassthruConfig', 'enterMaintenanceMode', 'rebootHost', 'waitForHostReboot', 'verifyPassthroughActive', 'exitMaintenanceMode',
  ]);
  assert.match(first.device.description, /DDRdrive/i);

  const again = await temporal.withWorker(async () => (await start(input('vh1'))).result());
  assert.equal(again.reboots, 0);
  assert.deepEqual(again.steps.map((s) => s.step), ['findPassthroughDevice']);
  assert.equal((await sim.control.host('vh1')).reboots, 1, 'no second reboot');
});

test('a host that reverts passthrough at its reboot (ESXi 8.0): applied again, one more reboot, then active', recorded('reboot-reverted/passthrough', async (r) => {
  await sim.control.setRevertPassthrough('vh2', true);
  const result = await temporal.withWorker(async () => (await start(input('vh2'))).result());
  assert.equal(result.reboots, 2);
  assert.equal((await sim.control.host('vh2')).reboots, 2);
  r.happened('The host came back with passthrough off; the run saw passthruActive false, applied it again and rebooted once more.');
  r.verified('exactly 2 reboots, counted by the simulator');
  assert.equal((await device('vh2')).passthruActive, true);
  r.verified('the device is passthruActive at the end');
}));

test('a host that does not come back by its deadline: the status names the BIOS and the signal; hostIsBack continues', recorded('reboot-never/passthrough', async (r) => {
  await sim.control.setNeverReturn('vh3', true);
  const handle = await start(input('vh3', { rebootTimeoutMs: 3000 }));
  const result = await temporal.withWorker(async () => {
    const status = await until(handle, (s) => s.waitingForOperator !== undefined, 'waiting for the operator');
    assert.match(status.waitingForOperator!, /VT-d\/IOMMU off in its BIOS.*hostIsBack/);
    r.happened(`Past its deadline the run waits for the operator; its status query says: "${status.waitingForOperator!}"`);
    r.verified('the status names the BIOS setting to check and the hostIsBack signal');
    assert.equal((await sim.control.host('vh3')).connectionState, 'notResponding');
    await sim.control.setNeverReturn('vh3', false);
    await handle.signal(hostIsBackSignal);
    r.recoveryStarted();
    const done = await handle.result();
    r.recovered();
    return done;
  });
  await recordHistory(temporal.client, handle.workflowId, 'enablePassthrough-hostIsBack');
  assert.equal(result.reboots, 1);
  assert.equal((await device('vh3')).passthruActive, true);
  r.verified('after hostIsBack: one reboot, the device passthruActive');
}));

test('the worker SIGKILLed during the reboot wait and started again: the run completes promptly, the host rebooted once', recorded('worker-kill/reboot-wait', async (r) => {
  await sim.control.setRebootSeconds('vh4', 8);
  const handle = await start(input('vh4'));
  // A worker process of its own, killed while the host is down; the test's worker takes over after.
  const worker = spawn(path.resolve(__dirname, '../../bin/esxi-zfs.js'), ['worker'], {
    env: { ...process.env, TEMPORAL_ADDRESS: temporal.server.address, TEMPORAL_NAMESPACE: temporal.server.namespace },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  try {
    await until(handle, (s) => s.step === 'waitForHostReboot', 'the reboot wait');
  } finally {
    worker.kill('SIGKILL');
    await exited;
  }
  assert.equal((await sim.control.host('vh4')).connectionState, 'notResponding', 'killed while the host is down');
  r.recoveryStarted();
  const result = await temporal.withWorker(() => handle.result());
  r.recovered();
  const waits = (await handle.fetchHistory()).events!.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitForHostReboot' ? [e.activityTaskScheduledEventAttributes.heartbeatTimeout?.seconds] : []);
  r.happened(`The wait's heartbeat timeout (${String(waits[0])} s) expired and the new worker's retry read the host's state again and waited for it.`);
  assert.equal(result.reboots, 1);
  assert.equal((await sim.control.host('vh4')).reboots, 1);
  r.verified('the host rebooted exactly once (simulator count)');
  assert.equal((await device('vh4')).passthruActive, true);
  r.verified('the device is passthruActive');
}));

test('the Temporal server stopped and started again (same SQLite file) during a reboot longer than the wait\'s heartbeat timeout: the run completes', recorded('server-restart/reboot-wait', async (r) => {
  // 25 s: longer than the wait activity's heartbeat timeout (20 s), which its heartbeats ride out.
  await sim.control.setRebootSeconds('vh6', 25);
  const result = await temporal.withWorker(async () => {
    const handle = await start(input('vh6'));
    await until(handle, (s) => s.step === 'waitForHostReboot', 'the reboot wait');
    await temporal.restartServer();
    r.recoveryStarted();
    assert.equal((await sim.control.host('vh6')).connectionState, 'notResponding', 'the server was back before the host');
    const done = await handle.result();
    r.recovered();
    return done;
  });
  r.happened('The wait activity kept running on the worker across the server restart; its heartbeats resumed against the restarted server and the run completed when the host (25 s reboot) returned.');
  assert.equal(result.reboots, 1);
  assert.equal((await sim.control.host('vh6')).reboots, 1);
  r.verified('the host rebooted exactly once');
  assert.equal((await device('vh6')).passthruActive, true);
  r.verified('the device is passthruActive');
}));

test('RebootHost_Task failing once with a SystemError fault: retried, the host rebooted once', recorded('vsphere-fault/reboot-task', async (r) => {
  await sim.control.failOnce({ method: 'RebootHost_Task', host: 'vh7', fault: 'SystemError', message: 'lab: the reboot request was lost' });
  r.recoveryStarted();
  const result = await temporal.withWorker(async () => (await start(input('vh7'))).result());
  r.recovered();
  r.happened('The SystemError fault failed the reboot call once; it was retried and the host rebooted.');
  assert.equal(result.reboots, 1);
  assert.equal((await sim.control.host('vh7')).reboots, 1);
  r.verified('the host rebooted exactly once');
  assert.equal((await device('vh7')).passthruActive, true);
  r.verified('the device is passthruActive');
}));

test('a wrong password and a wrong thumbprint: non-retryable failures that say what to fix, nothing changed', async () => {
  const failure = async (args: EnablePassthroughInput) => {
    const error = await temporal.withWorker(async () => (await start(args)).result().then(() => undefined, (e: unknown) => e));
    assert.ok(error instanceof WorkflowFailedError, String(error));
    // The activity's own failure: under an ActivityFailure for an activity, the cause itself for a local one.
    let cause = error.cause as { type?: string; message: string; cause?: unknown } | undefined;
    while (cause?.cause) cause = cause.cause as typeof cause;
    return cause!;
  };
  process.env.ESXI_ZFS_TEST_WRONG_PASSWORD = 'not-the-password';
  const login = await failure(input('vh5', { host: { ...input('vh5').host, vsphere: { ...input('vh5').host.vsphere, credential: { user: sim.username, passwordEnv: 'ESXI_ZFS_TEST_WRONG_PASSWORD' } } } }));
  assert.equal(login.type, Failure.VsphereLogin);
  assert.match(login.message, /cannot log in \(InvalidLogin\): check the user and ESXI_ZFS_TEST_WRONG_PASSWORD/);
  assert.ok(!login.message.includes('not-the-password'));
  const pinned = await failure(input('vh5', { host: { ...input('vh5').host, vsphere: { ...input('vh5').host.vsphere, thumbprint: Array(20).fill('AB').join(':') } } }));
  assert.equal(pinned.type, Failure.VsphereThumbprint);
  assert.match(pinned.message, /not the pinned/);
  assert.equal((await sim.control.host('vh5')).reboots, 0);
});
