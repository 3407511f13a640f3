/**
 * `esxi-zfs status FILE` on a provisioned lab (two ESXi hosts of the vSphere simulator, each with
 * its storage VM a real lab storage host; provisionCluster on a real dev server), through the CLI
 * with the product's worker reading the hosts (inspectCluster): both hosts connected, the X1
 * active, the VMs on and answering SSH, pools ONLINE, datastores mounted and accessible: exit 0.
 * Then one storage VM is powered off through the simulator (its lab host's sshd stops): status
 * says it is off and unreachable, the other host is still healthy, exit 1. With no worker, status
 * says the live state was not read and still shows the replication, exit 1. Runs as root.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { provisionCluster } from '../../workflows';
import { WorkflowIds } from '../../core/provision/shared';
import type { HostInspection } from '../../core/status/shared';
import { requireInventory } from '../../inventory/load';
import { provisionClusterInput } from '../../inventory/provision';
import { VirtualMachine } from '../../activities/vsphere';
import { vsphereSessions } from '../../activities/vsphere/sessions';
import { labDown, labUp, type LabState } from '../../lab/lab';
import { LAB_VSPHERE_PASSWORD_ENV, labVsphereUp } from '../../lab/vsphere-lab';
import type { VsphereSim } from '../../lab/vsphere';
import { recordHistory } from '../helpers/record-history';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const LAB_DIR = path.join(ROOT, '.data', 'lab-status-test');
const NAMES = ['st-san-01', 'st-san-02'];
let lab: LabState;
let sim: VsphereSim;
let temporal: TestTemporal;
const sessions = vsphereSessions();

before(async () => {
  lab = await labUp({ names: NAMES, dir: LAB_DIR });
  sim = await labVsphereUp(lab, { rebootSeconds: 1 });
  process.env[LAB_VSPHERE_PASSWORD_ENV] = sim.password;
  temporal = await startTestTemporal('status');
});

after(async () => {
  await sessions.closeAll();
  await temporal?.stop();
  await labDown({ dir: LAB_DIR });
});

interface StatusJson {
  healthy: boolean;
  problems: { subject: string; message: string }[];
  warnings: { subject: string; message: string }[];
  inspection: { workflowId: string; error?: string } | null;
  hosts: HostInspection[];
  replication: { host: string; dataset: string; schedule: object | null }[];
}

/** `esxi-zfs status ARGS` against the test's server: exit code and output. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, TEMPORAL_ADDRESS: temporal.server.address, TEMPORAL_NAMESPACE: temporal.server.namespace };
  return execFileAsync(path.join(ROOT, 'bin', 'esxi-zfs.js'), ['status', ...args], { env, cwd: ROOT, timeout: 240_000 }).then(
    (r) => ({ ...r, code: 0 }),
    (e: { stdout: string; stderr: string; code: number }) => e,
  );
}

async function statusJson(): Promise<{ code: number; out: StatusJson; stderr: string }> {
  const { code, stdout, stderr } = await cli([lab.inventoryFile, '--json']);
  return { code, out: JSON.parse(stdout) as StatusJson, stderr };
}

test('status of a provisioned lab: everything healthy (exit 0); a storage VM powered off: reported off and unreachable (exit 1)', async () => {
  const inventory = requireInventory(lab.inventoryFile);
  const input = provisionClusterInput(inventory);
  await temporal.withWorker(async () => {
    const result = await temporal.client.workflow.execute(provisionCluster, { args: [input], taskQueue: temporal.taskQueue, workflowId: WorkflowIds.provisionCluster });
    assert.deepEqual(result.failures, []);
  });

  const started = Date.now();
  const healthy = await temporal.withWorker(statusJson);
  console.log(`# status --json of the 2-host lab (CLI start, inspectCluster, replication from Temporal): ${Date.now() - started} ms`);
  assert.equal(healthy.code, 0, `${healthy.stderr}\n${JSON.stringify(healthy.out.problems)}`);
  const out = healthy.out;
  assert.equal(out.healthy, true);
  assert.deepEqual(out.problems, []);
  assert.match(out.inspection!.workflowId, /^inspect-cluster\//);
  await recordHistory(temporal.client, out.inspection!.workflowId, 'inspectCluster');
  assert.deepEqual(out.hosts.map((h) => h.name), ['vh1', 'vh2']);
  for (const [j, h] of out.hosts.entries()) {
    const esxi = h.esxi!.state!;
    assert.equal(esxi.connectionState, 'connected', h.name);
    assert.equal(esxi.inMaintenanceMode, false);
    assert.equal(esxi.passthrough!.devices.length, 1);
    assert.equal(esxi.passthrough!.devices[0]!.passthruActive, true, `${h.name}: the X1 is active`);
    assert.equal(esxi.storageVm!.name, NAMES[j]);
    assert.equal(esxi.storageVm!.powerState, 'poweredOn');
    assert.ok(esxi.storageVm!.guestAddresses.includes(lab.hosts[j]!.address), `guest shows ${lab.hosts[j]!.address}: ${esxi.storageVm!.guestAddresses.join(', ')}`);
    const datastore = inventory.hosts[j]!.storageVm!.datasets[0]!.datastore!.name;
    const ds = esxi.datastores.find((d) => d.name === datastore)!;
    assert.deepEqual([ds.expected, ds.mounted, ds.accessible, ds.type, ds.accessMode], [true, true, true, 'NFS', 'readWrite'], JSON.stringify(ds));
    assert.equal(ds.remote, `${lab.hosts[j]!.storageAddress}:/export/${NAMES[j]}-nas-vol${j}`);

    const vm = h.storageVm!.state!;
    assert.equal(vm.reachable, true);
    assert.equal(vm.pool!.name, `sp${j + 1}`);
    assert.equal(vm.pool!.health, 'ONLINE');
    assert.ok(vm.pool!.sizeBytes > 0 && vm.pool!.freeBytes > 0);
    assert.ok(vm.pool!.log.length > 0, 'the lab pool has a log device');
    const own = vm.datasets.find((d) => d.name === `sp${j + 1}/nas/vol${j}`)!;
    assert.equal(own.exists, true);
    assert.equal(own.mountpoint, `/export/${NAMES[j]}-nas-vol${j}`);
    assert.ok(own.sharenfs, 'shared over NFS');
    assert.ok((own.availableBytes ?? 0) > 0);
    // The ring's replica, not received yet: a warning, not a problem.
    const replica = vm.datasets.find((d) => d.replicaOf)!;
    assert.equal(replica.exists, false);
  }
  assert.ok(out.warnings.some((w) => /replica .* not received yet/.test(w.message)));
  assert.deepEqual(out.replication.map((r) => [r.host, r.dataset, r.schedule !== null]), [[NAMES[0], 'sp1/nas/vol0', true], [NAMES[1], 'sp2/nas/vol1', true]]);

  const table = await temporal.withWorker(() => cli([lab.inventoryFile]));
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^vh1\s+connected\s+no\s+\S+ active\s+st-san-01\s+poweredOn\s+.*\sok \(/m);
  assert.match(table.stdout, /^st-san-02\s+sp2\s+ONLINE/m);
  assert.match(table.stdout, /\nhealthy\n$/);

  // The storage VM of vh2 goes off: the simulator's hook stops st-san-02's sshd.
  const session = await sessions.session(input.hosts[1]!.passthrough.host.vsphere);
  await (await (await VirtualMachine.find(session, NAMES[1]!)).powerOff()).wait({ maxWaitSeconds: 60 });

  const down = await temporal.withWorker(statusJson);
  assert.equal(down.code, 1, down.stderr);
  assert.equal(down.out.healthy, false);
  const [vh1, vh2] = down.out.hosts;
  assert.equal(vh2!.esxi!.state!.connectionState, 'connected');
  assert.equal(vh2!.esxi!.state!.storageVm!.powerState, 'poweredOff');
  assert.equal(vh2!.storageVm!.state!.reachable, false);
  assert.match(vh2!.storageVm!.state!.error!, /ECONNREFUSED|connect/);
  const subjects = down.out.problems.map((p) => `${p.subject}: ${p.message}`);
  assert.ok(subjects.some((p) => /^vh2: storage VM st-san-02 is poweredOff$/.test(p)), subjects.join('\n'));
  assert.ok(subjects.some((p) => /^vh2\/st-san-02: unreachable over SSH/.test(p)), subjects.join('\n'));
  assert.ok(!subjects.some((p) => p.startsWith('vh1')), `vh1 is still healthy: ${subjects.join('\n')}`);
  assert.equal(vh1!.storageVm!.state!.pool!.health, 'ONLINE');

  // No worker: the live state is missing and says why, the replication part is still there; the run is not left behind.
  const noWorker = await statusJson();
  assert.equal(noWorker.code, 1);
  assert.match(noWorker.out.inspection!.error!, /^no worker took inspect-cluster\/\S+ within 10 s: is `esxi-zfs worker` running on task queue/);
  assert.deepEqual(noWorker.out.hosts, []);
  assert.equal(noWorker.out.replication.length, 2);
  assert.equal((await temporal.client.workflow.getHandle(noWorker.out.inspection!.workflowId).describe()).status.name, 'TERMINATED');
});
