/**
 * Replication jobs from the inventory (inventory/jobs.ts): one per dataset with replicateTo, the
 * dataset's own settings over the inventory's defaults over the built-in ones; finding a job by
 * dataset; the trust setup's input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInventory } from '../../inventory/load';
import type { Inventory } from '../../inventory/schema';
import { findJob, replicationJobs, replicationTrustInput } from '../../inventory/jobs';
import { findStorageVm, storageHostRef } from '../../inventory/targets';
import { exampleText } from '../helpers/inventory';

function example(): Inventory {
  const result = parseInventory(exampleText, 'runbook.yaml');
  assert.ok(result.ok);
  return structuredClone(result.inventory);
}

const ref = (inventory: Inventory, vm: string) => storageHostRef(inventory, findStorageVm(inventory, vm));

test('the runbook example: the ring uss1 -> uss2 -> uss1, with the inventory\'s defaults and the built-in ones', () => {
  const inventory = example();
  const jobs = replicationJobs(inventory);
  assert.deepEqual(jobs[0], {
    source: { host: ref(inventory, 'uss1'), dataset: 'sp1/nas/vol0' },
    target: { host: ref(inventory, 'uss2'), dataset: 'sp2/nas/vol0' },
    user: 'zfsadm',
    snapshotPrefix: 'esxi-zfs',
    send: ['properties', 'dedup'],
    recursive: false,
    intermediates: true,
    rollback: false,
    retention: { daily: 7, weekly: 4 },
    stallTimeoutMs: 120_000,
    sshCiphers: inventory.replication.sshCiphers,
    retry: { maximumAttempts: 5, initialIntervalMs: 10_000, maximumIntervalMs: 300_000 },
    schedule: { cron: '59 23 * * *', timezone: 'America/Chicago' },
  });
  assert.deepEqual(jobs.map((j) => `${j.source.host.name}:${j.source.dataset} -> ${j.target.host.name}:${j.target.dataset}`), [
    'uss1:sp1/nas/vol0 -> uss2:sp2/nas/vol0',
    'uss2:sp2/nas/vol1 -> uss1:sp1/nas/vol1',
  ]);
});

test('a dataset\'s own settings win over the inventory\'s, which win over the built-in ones', () => {
  const inventory = example();
  const r = inventory.replication;
  Object.assign(r, { recursive: true, intermediates: false, rollback: true, stallTimeout: '5m', retry: { maximumAttempts: 2, initialInterval: '1s', maximumInterval: '30s' } });
  const dataset = findStorageVm(inventory, 'uss1').datasets[0]!;
  Object.assign(dataset.replicateTo!, {
    send: ['raw'], recursive: false, intermediates: true, rollback: false, retention: { keep: 3 }, schedule: { cron: '0 1 * * *', timezone: 'UTC' },
  });
  const [own, inherited] = replicationJobs(inventory);
  assert.deepEqual(
    [own!.send, own!.recursive, own!.intermediates, own!.rollback, own!.retention, own!.schedule],
    [['raw'], false, true, false, { keep: 3 }, { cron: '0 1 * * *', timezone: 'UTC' }],
  );
  assert.deepEqual(
    [inherited!.send, inherited!.recursive, inherited!.intermediates, inherited!.rollback, inherited!.retention, inherited!.schedule, inherited!.stallTimeoutMs, inherited!.retry],
    [['properties', 'dedup'], true, false, true, { daily: 7, weekly: 4 }, { cron: '59 23 * * *', timezone: 'America/Chicago' }, 300_000, { maximumAttempts: 2, initialIntervalMs: 1000, maximumIntervalMs: 30_000 }],
  );
  delete r.send;
  delete r.retention;
  r.retry = {};
  const [, builtIn] = replicationJobs(inventory);
  assert.deepEqual([builtIn!.send, builtIn!.retention, builtIn!.retry], [['properties'], {}, { maximumAttempts: 5, initialIntervalMs: 10_000, maximumIntervalMs: 300_000 }]);
});

test('findJob: by dataset or VM:DATASET; an unknown or ambiguous one is an error listing the replicated ones', () => {
  const inventory = example();
  assert.equal(findJob(inventory, 'sp1/nas/vol0').target.dataset, 'sp2/nas/vol0');
  assert.equal(findJob(inventory, 'uss2:sp2/nas/vol1').target.dataset, 'sp1/nas/vol1');
  assert.throws(() => findJob(inventory, 'sp9/x'), /^Error: dataset 'sp9\/x' is not replicated by this inventory \(replicated: uss1:sp1\/nas\/vol0, uss2:sp2\/nas\/vol1\)$/);
  assert.throws(() => findJob(inventory, 'uss2:sp1/nas/vol0'), /is not replicated/);
  // The same dataset name on both VMs.
  findStorageVm(inventory, 'uss2').datasets[0]!.name = 'sp1/nas/vol0';
  assert.throws(() => findJob(inventory, 'sp1/nas/vol0'), /^Error: dataset 'sp1\/nas\/vol0' is on several storage VMs: name it as VM:DATASET \(uss1:sp1\/nas\/vol0, uss2:sp1\/nas\/vol0\)$/);
  assert.equal(findJob(inventory, 'uss2:sp1/nas/vol0').source.host.name, 'uss2');
  for (const vm of ['uss1', 'uss2']) for (const d of findStorageVm(inventory, vm).datasets) delete d.replicateTo;
  assert.throws(() => findJob(inventory, 'sp1/nas/vol0'), /\(replicated: none\)$/);
});

test('replicationTrustInput: every storage VM, the user, whether a system user is allowed, one edge per job', () => {
  const inventory = example();
  inventory.replication.allowSystemUser = true;
  assert.deepEqual(replicationTrustInput(inventory), {
    hosts: [ref(inventory, 'uss1'), ref(inventory, 'uss2')],
    user: 'zfsadm',
    allowSystemUser: true,
    edges: [
      { source: ref(inventory, 'uss1'), target: ref(inventory, 'uss2'), targetDataset: 'sp2/nas/vol0' },
      { source: ref(inventory, 'uss2'), target: ref(inventory, 'uss1'), targetDataset: 'sp1/nas/vol1' },
    ],
  });
});
