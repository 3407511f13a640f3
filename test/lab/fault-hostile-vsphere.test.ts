/**
 * A vSphere task that ends in a fault (issue 13), on the lab's simulator (lab/vsphere): the fault
 * reaches the caller as a TaskError with the fault's type and the server's message, nothing is
 * done, and the same call succeeds once the fault is gone. A method (not a task) failing with a
 * SOAP fault gives a SoapFault the same way.
 *
 *   node --import tsx --test test/lab/fault-hostile-vsphere.test.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startVsphereSim, type VsphereSim } from '../../lab/vsphere';
import { HostSystem } from '../../activities/vsphere/object/host-system';
import { Session } from '../../activities/vsphere/session';
import { isFault, TaskError } from '../../activities/vsphere/vim25/fault';
import { recorded } from '../helpers/reliability';

let sim: VsphereSim;
let session: Session;
let dir: string;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-hostile-vsphere-'));
  sim = await startVsphereSim({ dir, hosts: [{ name: 'hv1', address: '10.213.19.1', rebootSeconds: 1 }] });
  session = await Session.connect({ url: sim.url, trust: { thumbprint: sim.thumbprint } });
  await session.login({ userName: sim.username, password: sim.password });
});

after(async () => {
  await session?.close().catch(() => undefined);
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a task that ends in a fault: TaskError with the fault type and message; nothing done; the next call succeeds', recorded('hostile/task-fault', async (r) => {
  const host = await HostSystem.find(session, 'hv1');
  for (const [fault, message] of [['SystemError', 'lab: the reboot request was lost'], ['HostConfigFault', 'lab: host configuration is broken'], ['NoPermission', 'lab: not allowed']] as const) {
    await sim.control.failOnce({ method: 'RebootHost_Task', host: 'hv1', fault, message });
    const task = await host.rebootHost(true);
    await assert.rejects(task.wait({ maxWaitSeconds: 20 }), (error: Error) => {
      assert.ok(error instanceof TaskError, String(error));
      assert.equal(error.faultType, fault);
      assert.ok(error.message.includes(fault) && error.message.includes(message), error.message);
      assert.equal(error.message, `HostSystem.rebootHost ${task.ref.value}: ${fault}: ${message}`);
      return true;
    });
    r.verified(`RebootHost_Task ending in ${fault}: TaskError whose type is ${fault} and whose message names the task, the fault and "${message}"`);
  }
  assert.equal((await sim.control.host('hv1')).reboots, 0);
  r.verified('the failed tasks rebooted nothing (reboots 0)');
  r.recoveryStarted();
  await (await host.rebootHost(true)).wait({ maxWaitSeconds: 20 });
  r.recovered();
  assert.equal((await sim.control.host('hv1')).reboots, 1);
  r.verified('once the fault is gone, the same call succeeds and the host reboots once');

  await sim.control.failOnce({ method: 'EnterMaintenanceMode_Task', host: 'hv1', fault: 'InvalidState', message: 'lab: not now' });
  await assert.rejects(async () => (await host.enterMaintenanceMode(0)).wait({ maxWaitSeconds: 20 }), (error: Error) => {
    assert.ok(isFault(error, 'InvalidState'), String(error));
    assert.match(error.message, /InvalidState.*lab: not now/);
    return true;
  });
  r.verified('EnterMaintenanceMode_Task failing with InvalidState: a fault of that type with the message');
  assert.equal((await host.properties(['runtime.inMaintenanceMode']))['runtime.inMaintenanceMode'], false);
  r.verified('the host did not enter maintenance mode');
  r.happened('Tasks ending in SystemError, HostConfigFault, NoPermission and InvalidState (the simulator\'s failOnce) each surfaced as a TaskError with the fault type and the server\'s message; nothing changed; the next call succeeded.');
}));
