/**
 * enablePassthrough's decisions with fake activities on the time-skipping server: no reboot when
 * the device is active already; enable, maintenance mode, one reboot and the durable wait; the
 * host that reverts passthrough once (applied again) and twice (a clear failure); the host that
 * does not come back by its deadline, then the operator's hostIsBack signal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { enablePassthrough } from '../../workflows';
import { timeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { recordHistory } from '../helpers/record-history';
import { Failure } from '../../core/failures';
import type { StepReport } from '../../core/configure/shared';
import {
  hostIsBackSignal, passthroughStatusQuery,
  type EnablePassthroughInput, type EsxiHostRef, type HostRebootState, type PassthroughActivities, type PassthroughDevice,
} from '../../core/passthrough/shared';

const temporal = timeSkippingEnv();
const host: EsxiHostRef = { name: 'vh1', vsphere: { url: 'https://vcenter.example/sdk', credential: { user: 'administrator@vsphere.local', passwordEnv: 'VSPHERE_PASSWORD' } } };
const input: EnablePassthroughInput = {
  host, device: { vendorId: '0x19e3', classId: '0x0100' }, rebootTimeoutMs: 60_000, maintenanceMode: true, runningVms: 'refuse',
};
const report = (what: string): StepReport => ({ found: [], changed: [what], warnings: [] });

/** A host whose device becomes active at each reboot unless `reverts` says that reboot reverts it; `downFor` wait answers before it is back. */
function fakeHost(opts: { active?: boolean; reverts?: number; downFor?: number; neverBack?: () => boolean }) {
  const calls: string[] = [];
  let boot = 1;
  let enabled = opts.active ?? false;
  let active = opts.active ?? false;
  let reverts = opts.reverts ?? 0;
  let waitsLeft = 0;
  const device = (): PassthroughDevice => ({ id: '0000:0b:00.0', description: 'DDRdrive X1', passthruEnabled: enabled, passthruActive: active, bootTime: `boot-${boot}` });
  const activities: PassthroughActivities = {
    async findPassthroughDevice() {
      calls.push('findPassthroughDevice');
      return { device: device(), report: { found: ['found'], changed: [], warnings: [] } };
    },
    async updatePassthruConfig() {
      calls.push('updatePassthruConfig');
      enabled = true;
      return report('enabled');
    },
    async enterMaintenanceMode() {
      calls.push('enterMaintenanceMode');
      return report('maintenance');
    },
    async rebootHost(_host, bootTimeBefore) {
      calls.push('rebootHost');
      assert.equal(bootTimeBefore, `boot-${boot}`, 'the reboot is asked with the bootTime read last');
      boot++;
      if (reverts > 0) {
        reverts--;
        enabled = false;
        active = false;
      } else {
        active = enabled;
      }
      waitsLeft = opts.downFor ?? 0;
      return report('rebooted');
    },
    async waitForHostReboot(_host, wait): Promise<HostRebootState> {
      calls.push('waitForHostReboot');
      assert.ok(wait.maxWaitSeconds > 0 && wait.maxWaitSeconds <= 120);
      if (opts.neverBack?.() || waitsLeft-- > 0) return { back: false, connectionState: 'notResponding' };
      return { back: true, connectionState: 'connected', bootTime: `boot-${boot}` };
    },
    async exitMaintenanceMode() {
      calls.push('exitMaintenanceMode');
      return report('out of maintenance');
    },
  };
  return { calls, activities };
}

let runs = 0;
async function worker(activities: PassthroughActivities): Promise<{ worker: Worker; taskQueue: string }> {
  const taskQueue = `passthrough-test-${process.pid}-${++runs}`;
  const w = await Worker.create({
    connection: temporal.env.nativeConnection,
    namespace: temporal.env.namespace ?? 'default',
    workflowBundle: await workflowBundle(),
    taskQueue,
    activities,
  });
  return { worker: w, taskQueue };
}

const workflowIdOf = (run: number) => `passthrough-test-${process.pid}-${run}`;

async function run(activities: PassthroughActivities, args = input) {
  const { worker: w, taskQueue } = await worker(activities);
  return w.runUntil(temporal.env.client.workflow.execute(enablePassthrough, { args: [args], taskQueue, workflowId: workflowIdOf(runs) }));
}

test('active already: found, nothing changed, no reboot', async () => {
  const fake = fakeHost({ active: true });
  const result = await run(fake.activities);
  assert.deepEqual(fake.calls, ['findPassthroughDevice']);
  assert.equal(result.reboots, 0);
  assert.deepEqual(result.device, { id: '0000:0b:00.0', description: 'DDRdrive X1' });
});

test('not enabled: enabled, maintenance mode, one reboot waited out across timers, verified active, maintenance left', async () => {
  const fake = fakeHost({ downFor: 3 });
  const result = await run(fake.activities);
  // The lab's reboots end within one wait activity: this run is the recorded history with the timers between waits.
  await recordHistory(temporal.env.client, workflowIdOf(runs), 'enablePassthrough-timers');
  assert.deepEqual(fake.calls, [
    'findPassthroughDevice', 'updatePassthruConfig', 'enterMaintenanceMode', 'rebootHost',
    'waitForHostReboot', 'waitForHostReboot', 'waitForHostReboot', 'waitForHostReboot',
    'findPassthroughDevice', 'exitMaintenanceMode',
  ]);
  assert.equal(result.reboots, 1);
  assert.deepEqual(result.steps.map((s) => s.step), [
    'findPassthroughDevice', 'updatePassthruConfig', 'enterMaintenanceMode', 'rebootHost', 'waitForHostReboot', 'verifyPassthroughActive', 'exitMaintenanceMode',
  ]);
});

test('without maintenance mode in the inventory: neither entered nor left', async () => {
  const fake = fakeHost({});
  await run(fake.activities, { ...input, maintenanceMode: false });
  assert.ok(!fake.calls.includes('enterMaintenanceMode') && !fake.calls.includes('exitMaintenanceMode'), fake.calls.join(' '));
});

test('a host that reverts passthrough at its reboot: applied again, a second reboot, then active', async () => {
  const fake = fakeHost({ reverts: 1 });
  const result = await run(fake.activities);
  assert.equal(result.reboots, 2);
  assert.equal(fake.calls.filter((c) => c === 'updatePassthruConfig').length, 2);
  const verify = result.steps.filter((s) => s.step === 'verifyPassthroughActive');
  assert.match(verify[0]!.report.found[0]!, /not active after the reboot/);
  assert.match(verify[0]!.report.warnings[0]!, /ESXi 8\.0/);
});

test('a host that reverts it twice: a non-retryable failure naming the BIOS, maintenance mode not left', async () => {
  const fake = fakeHost({ reverts: 2 });
  await assert.rejects(run(fake.activities), (error: unknown) => {
    assert.ok(error instanceof WorkflowFailedError);
    const cause = error.cause as { type?: string; message?: string };
    assert.equal(cause.type, Failure.PassthroughNotActive);
    assert.match(cause.message!, /not active after 2 reboots.*VT-d\/IOMMU/);
    return true;
  });
  assert.ok(!fake.calls.includes('exitMaintenanceMode'));
});

test('a host not back by its deadline: the status names the cause and the signal; hostIsBack continues the wait', async () => {
  let down = true;
  const fake = fakeHost({ neverBack: () => down });
  const { worker: w, taskQueue } = await worker(fake.activities);
  await w.runUntil(async () => {
    const handle = await temporal.env.client.workflow.start(enablePassthrough, { args: [input], taskQueue, workflowId: `passthrough-test-${process.pid}-back` });
    // Past the 60 s deadline in workflow time (5 s timers between waits).
    for (let i = 0; i < 40; i++) {
      await temporal.env.sleep('10 seconds');
      if ((await handle.query(passthroughStatusQuery)).waitingForOperator) break;
    }
    const status = await handle.query(passthroughStatusQuery);
    assert.equal(status.step, 'waitForHostReboot');
    assert.match(status.waitingForOperator ?? '', /VT-d\/IOMMU off in its BIOS.*hostIsBack/);
    const waitsBefore = fake.calls.filter((c) => c === 'waitForHostReboot').length;
    await temporal.env.sleep('1 hour');
    assert.equal(fake.calls.filter((c) => c === 'waitForHostReboot').length, waitsBefore, 'no polling while it waits for the operator');
    down = false;
    await handle.signal(hostIsBackSignal);
    const result = await handle.result();
    assert.equal(result.reboots, 1);
    assert.equal((await handle.query(passthroughStatusQuery)).step, 'done');
  });
});
