/**
 * provisionCluster end to end on the lab with its vSphere simulator (lab/vsphere-lab.ts: two ESXi
 * hosts, each with the X1 and a storage VM that is a real lab storage host, not built yet) and a
 * real Temporal dev server, through the product's activities and, for the re-runs, its CLI.
 *
 * From blank, with vh2's reboot never returning: vh1 goes all the way while vh2 waits for the
 * operator (the status queries say so, with the signal to send); then vh2 is back, `hostIsBack`,
 * and the run completes: passthrough active, VMs on, pools, shares as datastores, trust, schedules.
 * Again through `esxi-zfs provision --wait --json`: exit 0 and nothing changed. Then vh2's storage
 * VM no longer matches the inventory: exit 1, the result names vh2's buildStorageVm, vh1 unchanged,
 * the ring's trust and schedules skipped. Runs as root.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { provisionCluster, type recoverDatastores } from '../../workflows';
import { hostIsBackSignal, passthroughStatusQuery } from '../../core/passthrough/shared';
import { provisionClusterStatusQuery, provisionHostStatusQuery, WorkflowIds, type ProvisionClusterResult, type ProvisionHostResult } from '../../core/provision/shared';
import { replicationScheduleId } from '../../core/replication/shared';
import { requireInventory } from '../../inventory/load';
import { provisionClusterInput } from '../../inventory/provision';
import { storageHostRef, storageVms } from '../../inventory/targets';
import { HostSystem, retrieveOne } from '../../activities/vsphere';
import { vsphereSessions } from '../../activities/vsphere/sessions';
import { labDown, labUp, type LabState } from '../../lab/lab';
import { LAB_VSPHERE_PASSWORD_ENV, labVsphereUp } from '../../lab/vsphere-lab';
import type { SimDatastoreState, VsphereSim } from '../../lab/vsphere';
import { statusLines } from '../../scripts/provision-display';
import { recordHistory } from '../helpers/record-history';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const LAB_DIR = path.join(ROOT, '.data', 'lab-provision-test');
let lab: LabState;
let sim: VsphereSim;
let temporal: TestTemporal;
let scratch: string;
const sessions = vsphereSessions();

before(async () => {
  lab = await labUp({ names: ['prov-san-01', 'prov-san-02'], dir: LAB_DIR });
  sim = await labVsphereUp(lab, { rebootSeconds: 2, mountEverywhere: true });
  process.env[LAB_VSPHERE_PASSWORD_ENV] = sim.password;
  temporal = await startTestTemporal('provision');
  scratch = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-provision-'));
});

after(async () => {
  await sessions.closeAll();
  await temporal?.stop();
  await labDown({ dir: LAB_DIR });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** `esxi-zfs provision FILE --wait --json` against the test's server: exit code and parsed output. */
async function cli(file: string, ...args: string[]): Promise<{ code: number; out: { name: string; result?: ProvisionClusterResult; failed?: string }[]; stderr: string }> {
  const env = { ...process.env, TEMPORAL_ADDRESS: temporal.server.address, TEMPORAL_NAMESPACE: temporal.server.namespace };
  const run = execFileAsync(path.join(ROOT, 'bin', 'esxi-zfs.js'), ['provision', file, ...args, '--wait', '--json'], { env, cwd: ROOT, timeout: 300_000 });
  const { stdout, stderr, code } = await run.then((r) => ({ ...r, code: 0 }), (e: { stdout: string; stderr: string; code: number }) => e);
  return { code, out: JSON.parse(stdout) as { name: string; result?: ProvisionClusterResult }[], stderr };
}

test('provisionCluster from blank through a reboot that never returns, then hostIsBack; again: nothing changed; a host that fails is named', async () => {
  const inventory = requireInventory(lab.inventoryFile);
  const input = provisionClusterInput(inventory);
  // vh2 does not come back from its reboot; its run stops waiting by itself after 3 s and asks the operator.
  input.hosts[1]!.passthrough = { ...input.hosts[1]!.passthrough, rebootTimeoutMs: 3000 };
  await sim.control.setNeverReturn('vh2', true);

  const result = await temporal.withWorker(async () => {
    const handle = await temporal.client.workflow.start(provisionCluster, { args: [input], taskQueue: temporal.taskQueue, workflowId: WorkflowIds.provisionCluster });
    const vh2Passthrough = temporal.client.workflow.getHandle(WorkflowIds.enablePassthrough('vh2'));
    await until('vh2 waiting for the operator', async () => ((await vh2Passthrough.query(passthroughStatusQuery)).waitingForOperator ? true : undefined));
    const vh1 = await until('vh1 provisioned', async () => {
      const s = await temporal.client.workflow.getHandle(WorkflowIds.provisionHost('vh1')).query(provisionHostStatusQuery);
      return s.steps.every((x) => x.state === 'done' || x.state === 'skipped') ? s : undefined;
    });
    assert.deepEqual(vh1.steps.map((s) => [s.step, s.state]), [
      ['enablePassthrough', 'done'], ['configureStorageNetwork', 'done'], ['buildStorageVm', 'done'], ['configureStorage', 'done'], ['registerDatastore', 'done'], ['recoverDatastores', 'skipped'],
    ]);
    assert.match(vh1.steps.at(-1)!.reason!, /datastores on vh1 were mounted after the reboot/);
    const cluster = await handle.query(provisionClusterStatusQuery);
    assert.deepEqual(cluster.hosts.map((h) => [h.host, h.state]), [['vh1', 'done'], ['vh2', 'running']], 'vh1 is not held up by vh2');
    const vh2 = await temporal.client.workflow.getHandle(WorkflowIds.provisionHost('vh2')).query(provisionHostStatusQuery);
    assert.equal(vh2.current, 'enablePassthrough');
    const display = (await statusLines(temporal.client, ['vh1', 'vh2'], cluster, false)).join('\n');
    assert.match(display, /vh1 \(prov-san-01\) \[6\/6\] done/);
    assert.match(display, /vh2 \(prov-san-02\) \[0\/6\] enablePassthrough > waitForHostReboot[^\n]*\n.*VT-d[\s\S]*then: esxi-zfs host-is-back vh2/);

    // The operator fixes the host (here: it comes back) and says so.
    await sim.control.setNeverReturn('vh2', false);
    await vh2Passthrough.signal(hostIsBackSignal);
    return handle.result();
  });

  assert.deepEqual(result.failures, []);
  await recordHistory(temporal.client, WorkflowIds.provisionCluster, 'provisionCluster');
  await recordHistory(temporal.client, WorkflowIds.provisionHost('vh2'), 'provisionHost-hostIsBack');
  for (const h of result.hosts) {
    assert.deepEqual(h.steps.map((s) => [s.step, s.state]), [
      ['enablePassthrough', 'done'], ['configureStorageNetwork', 'done'], ['buildStorageVm', 'done'], ['configureStorage', 'done'], ['registerDatastore', 'done'], ['recoverDatastores', 'skipped'],
    ], h.host);
    assert.ok(h.steps.find((s) => s.step === 'enablePassthrough')!.changed.some((c) => /reboot|passthru/i.test(c)), `${h.host} was rebooted for passthrough`);
  }
  assert.deepEqual(result.steps.map((s) => [s.step, s.state]), [
    ['provisionHosts', 'done'], ['registerDatastores', 'done'], ['setupReplicationTrust', 'done'], ['applyReplicationSchedules', 'done'],
  ]);

  // What is true now, read from each system itself.
  for (const [j, vm] of storageVms(inventory).entries()) {
    const esxi = `vh${j + 1}`;
    const host = await sim.control.host(esxi);
    assert.ok(host.passthrough.some((d) => d.passthruActive), `${esxi}: the X1 is active`);
    assert.deepEqual(host.vms.map((v) => [v.name, v.powerState]), [[vm.name, 'poweredOn']]);
    const ref = storageHostRef(inventory, vm);
    assert.equal((await temporal.transport.runOk(ref, ['zpool', 'list', '-H', '-o', 'name'])).stdout.trim(), vm.pool.name);
    const session = await sessions.session(input.hosts[j]!.passthrough.host.vsphere);
    const system = await (await HostSystem.find(session, esxi)).datastoreSystem();
    const names = await Promise.all((await system.datastores()).map(async (d) => String((await retrieveOne(session, d, ['summary.name']))['summary.name'])));
    const datastore = vm.datasets[0]!.datastore!.name;
    assert.ok(names.includes(datastore), `${esxi} mounts ${datastore}: ${names.join(', ')}`);
  }
  for (const job of input.schedules) await temporal.client.schedule.getHandle(replicationScheduleId(job)).describe();

  // Again through the CLI: exit 0, nothing changed anywhere.
  const again = await temporal.withWorker(() => cli(lab.inventoryFile));
  assert.equal(again.code, 0, again.stderr);
  const second = again.out[0]!.result!;
  assert.deepEqual(second.hosts.flatMap((h) => h.steps.flatMap((s) => s.changed.map((c) => `${h.host} ${s.step}: ${c}`))), []);
  assert.deepEqual(second.steps.flatMap((s) => s.changed), []);
  assert.equal((await sim.control.host('vh2')).reboots, 1, 'no second reboot');

  // vh2's storage VM is not what the inventory says any more: vh2 fails at buildStorageVm, vh1 goes on.
  const doc = YAML.parse(readFileSync(lab.inventoryFile, 'utf8')) as { hosts: { storageVm: { cpus: number } }[] };
  doc.hosts[1]!.storageVm.cpus = 4;
  const differs = path.join(scratch, 'differs.yaml');
  writeFileSync(differs, YAML.stringify(doc));
  const failed = await temporal.withWorker(() => cli(differs));
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /provisioning failed/);
  const third = failed.out[0]!;
  assert.match(third.failed!, /vh2: buildStorageVm: prov-san-02 exists .*2 CPUs, the inventory says 4/);
  assert.deepEqual(third.result!.hosts.map((h) => [h.host, h.failed]), [['vh1', undefined], ['vh2', 'buildStorageVm']]);
  assert.deepEqual(third.result!.hosts[1]!.steps.map((s) => s.state), ['done', 'done', 'failed', 'notRun', 'notRun', 'notRun']);
  assert.deepEqual(third.result!.steps.slice(2).map((s) => s.state), ['skipped', 'skipped'], 'no trust or schedules for the ring while a member failed');
});

test('an ESXi update turned vh1\'s passthrough off: provision --host vh1 reboots it once more, then brings back its VM\'s datastores, dead since, on both hosts', async () => {
  const inventory = requireInventory(lab.inventoryFile);
  const [vm] = storageVms(inventory);
  const datastore = vm!.datasets.find((d) => d.datastore)!.datastore!.name;
  const mounts = async () => {
    const d = (await sim.control.datastores()).find((x) => x.name === datastore) as SimDatastoreState;
    return d.hosts.map((h) => `${h.host} ${h.accessible}`).sort().join(', ');
  };
  assert.equal(await mounts(), 'vh1 true, vh2 true');
  const rebootsBefore = (await sim.control.host('vh1')).reboots;

  // The update leaves the X1 to a native driver: passthrough off, and after its reboot the storage VM (it holds the X1) cannot start, so its datastores die on both hosts.
  const x1 = (await sim.control.host('vh1')).passthrough.find((d) => d.passthruActive)!.id;
  const session = await sessions.session(provisionClusterInput(inventory).hosts[0]!.passthrough.host.vsphere);
  const vh1 = await HostSystem.find(session, 'vh1');
  await (await vh1.pciPassthruSystem()).updatePassthruConfig([{ id: x1, passthruEnabled: false }]);
  await (await vh1.rebootHost(true)).wait();
  await until('vh1 back without its X1', async () => {
    const h = await sim.control.host('vh1');
    return !h.rebooting && h.reboots > rebootsBefore && h.passthrough.every((d) => !d.passthruActive) ? h : undefined;
  });
  assert.deepEqual((await sim.control.host('vh1')).vms.map((v) => [v.name, v.powerState]), [[vm!.name, 'poweredOff']]);
  assert.equal(await mounts(), 'vh1 false, vh2 false');

  const run = await temporal.withWorker(() => cli(lab.inventoryFile, '--host', 'vh1'));
  assert.equal(run.code, 0, run.stderr);
  const result = run.out[0]!.result as unknown as ProvisionHostResult;
  await recordHistory(temporal.client, WorkflowIds.provisionHost('vh1'), 'provisionHost-recoverDatastores');
  assert.deepEqual(result.steps.map((s) => [s.step, s.state]), [
    ['enablePassthrough', 'done'], ['configureStorageNetwork', 'done'], ['buildStorageVm', 'done'], ['configureStorage', 'done'], ['registerDatastore', 'done'], ['recoverDatastores', 'done'],
  ]);
  assert.equal((await sim.control.host('vh1')).reboots, rebootsBefore + 2, 'the update\'s reboot and the one that made the X1 active again');
  const recovered = result.steps.find((s) => s.step === 'recoverDatastores')!;
  assert.equal(recovered.workflowId, WorkflowIds.recoverDatastores(vm!.name));
  const child = await temporal.client.workflow.getHandle<typeof recoverDatastores>(recovered.workflowId!).result();
  assert.deepEqual(child.hosts.flatMap((h) => h.datastores.map((d) => `${h.host} ${d.datastore} ${d.state}`)).sort(), [`vh1 ${datastore} accessible`, `vh2 ${datastore} accessible`]);
  // The refresh alone brought them back (the lab's default stale mode): nothing was remounted.
  assert.deepEqual(recovered.changed, []);
  assert.deepEqual(recovered.warnings, []);
  assert.equal(await mounts(), 'vh1 true, vh2 true');
  assert.deepEqual((await sim.control.host('vh1')).vms.map((v) => [v.name, v.powerState]), [[vm!.name, 'poweredOn']]);
});
