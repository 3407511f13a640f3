/** probeStorageHosts on the real dev server against the lab: OS, ZFS version, pools and disks over SSH. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { labDown, labExec, labUp, type LabState } from '../../lab/lab';
import { requireInventory } from '../../inventory/load';
import { storageHostRef, storageVms } from '../../inventory/targets';
import type { StorageHostFacts } from '../../activities/guest/probe';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';
import { recordHistory } from '../helpers/record-history';

const LAB_DIR = path.resolve(__dirname, '../../.data/lab-probe-test');
let lab: LabState;
let temporal: TestTemporal;

before(async () => {
  lab = await labUp({ hosts: 2, dir: LAB_DIR });
  temporal = await startTestTemporal('probe');
});

after(async () => {
  await temporal?.stop();
  await labDown({ dir: LAB_DIR });
});

async function probe(): Promise<{ facts: StorageHostFacts[]; workflowId: string }> {
  const inventory = requireInventory(lab.inventoryFile);
  const hosts = storageVms(inventory).map((vm) => storageHostRef(inventory, vm));
  const workflowId = `probe-${Date.now()}`;
  const facts = await temporal.withWorker(() =>
    temporal.client.workflow.execute('probeStorageHosts', {
      taskQueue: temporal.taskQueue,
      workflowId,
      args: [{ hosts }],
      typedSearchAttributes: [{ key: { name: 'runbook', type: 'KEYWORD' }, value: 'probe' }],
    }),
  );
  return { facts: facts as StorageHostFacts[], workflowId };
}

test('probeStorageHosts reads each host: Linux, zfs-fuse pool version 23, its three blank disks, no pool', async () => {
  const { facts, workflowId } = await probe();
  await recordHistory(temporal.client, workflowId, 'probeStorageHosts');
  assert.deepEqual(facts.map((f) => f.host), ['test-san-01', 'test-san-02']);
  for (const host of facts) {
    assert.equal(host.os.name, 'Linux');
    assert.equal(host.os.hostname, host.host, 'each host has its own hostname');
    assert.deepEqual(host.zfs, { pool: 23, filesystem: 4 });
    assert.deepEqual(host.pools, []);
    const disks = Object.fromEntries(host.disks.filter((d) => d.name.startsWith('/srv/disks/')).map((d) => [d.name, d.sizeBytes]));
    assert.deepEqual(disks, { '/srv/disks/c11t0d0': 256 * 2 ** 20, '/srv/disks/c8t1d0': 2 * 2 ** 30, '/srv/disks/c9t0d0': 512 * 2 ** 20 });
  }
});

test('a pool created on one host shows on that host only, with the disks it uses', async () => {
  const first = lab.hosts[0]!;
  const created = await labExec(first, ['zpool', 'create', 'sp1', '/srv/disks/c8t1d0', 'log', '/srv/disks/c11t0d0']);
  assert.equal(created.code, 0, created.stderr);
  try {
    const { facts, workflowId } = await probe();
    const [one, two] = facts;
    assert.deepEqual(one!.pools.map((p) => [p.name, p.health]), [['sp1', 'ONLINE']]);
    assert.ok(one!.pools[0]!.sizeBytes > 1.9 * 2 ** 30);
    assert.equal(one!.disks.find((d) => d.name === '/srv/disks/c8t1d0')?.pool, 'sp1');
    assert.equal(one!.disks.find((d) => d.name === '/srv/disks/c11t0d0')?.pool, 'sp1');
    assert.equal(one!.disks.find((d) => d.name === '/srv/disks/c9t0d0')?.pool, undefined);
    assert.deepEqual(two!.pools, []);

    // The UI shows readable activity names, and the history holds no secret.
    const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
    const text = JSON.stringify(history);
    const activityTypes = new Set(
      (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : [])),
    );
    assert.deepEqual([...activityTypes], ['probeStorageHost']);
    assert.doesNotMatch(Buffer.from(text).toString(), /PRIVATE KEY/);
    const payloads = (history.events ?? []).flatMap((e) => e.workflowExecutionStartedEventAttributes?.input?.payloads ?? []);
    const input = payloads.map((p) => Buffer.from(p.data as Uint8Array).toString()).join('\n');
    assert.match(input, /"privateKeyFile"/, 'the input names the credential file');
    assert.doesNotMatch(input, /BEGIN OPENSSH|PRIVATE KEY/, 'the input carries no key material');
  } finally {
    await labExec(first, ['zpool', 'destroy', 'sp1']);
  }
});
