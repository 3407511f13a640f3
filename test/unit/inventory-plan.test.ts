/** What `validate` says an inventory will build: the plan as data and as text. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInventory } from '../../inventory/load';
import { buildPlan, formatPlan, nfsShareOptions } from '../../inventory/plan';
import { exampleText, withChanges } from '../helpers/inventory';

function planOf(text: string) {
  const result = parseInventory(text, 'inv.yaml');
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems));
  return buildPlan(result.inventory);
}

test('the runbook example: hosts, passthrough, pools, shares, datastores and the ring', () => {
  assert.equal(formatPlan(planOf(exampleText)), [
    'ESXi host vh0',
    'ESXi host vh1: passthrough vendor 0x19e3 class 0x0100',
    '  storage VM uss1 (illumos): zpool create sp1 c8t1d0 log c11t0d0',
    '    dataset sp1/nas/vol0 sharenfs=rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas, datastore uss1-nas-vol0 on vh0, vh1, vh2, vh3',
    'ESXi host vh2: passthrough vendor 0x19e3 class 0x0100',
    '  storage VM uss2 (illumos): zpool create sp2 c8t1d0 log c11t0d0',
    '    dataset sp2/nas/vol1 sharenfs=rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas, datastore uss2-nas-vol1 on vh0, vh1, vh2, vh3',
    'ESXi host vh3',
    'replication:',
    '  uss1:sp1/nas/vol0 -> uss2:sp2/nas/vol0 (59 23 * * * America/Chicago)',
    '  uss2:sp2/nas/vol1 -> uss1:sp1/nas/vol1 (59 23 * * * America/Chicago)',
  ].join('\n'));
  const plan = planOf(exampleText);
  assert.deepEqual(plan.hosts[1], {
    name: 'vh1',
    passthrough: 'vendor 0x19e3 class 0x0100',
    storageVm: {
      name: 'uss1', os: 'illumos', pool: 'sp1 c8t1d0 log c11t0d0',
      datasets: [{ name: 'sp1/nas/vol0', share: 'rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas', datastore: 'uss1-nas-vol0 on vh0, vh1, vh2, vh3', replicateTo: 'uss2:sp2/nas/vol0' }],
    },
  });
  assert.deepEqual(plan.hosts[0], { name: 'vh0', passthrough: undefined, storageVm: undefined });
});

test('a device by address, a cache by model, a dataset of its own schedule, no share, no replication', () => {
  const VM = ['hosts', 1, 'storageVm'];
  const plan = planOf(withChanges([
    [['hosts', 1, 'passthrough', 'device'], { address: '0000:05:00.0' }],
    [['hosts', 2, 'passthrough', 'device'], { deviceId: '0x0001' }],
    [[...VM, 'pool', 'cache'], [{ model: 'SSD 1' }]],
    [[...VM, 'pool', 'log'], undefined],
    [[...VM, 'datasets', 0, 'replicateTo', 'schedule'], { cron: '0 1 * * *', timezone: 'UTC' }],
    [[...VM, 'datasets', 1], { name: 'sp1/plain' }],
    [['replication', 'schedule'], undefined],
  ]));
  assert.equal(plan.hosts[1]!.passthrough, '0000:05:00.0');
  assert.equal(plan.hosts[2]!.passthrough, 'device 0x0001');
  assert.equal(plan.hosts[1]!.storageVm!.pool, 'sp1 c8t1d0 cache (model SSD 1)');
  assert.deepEqual(plan.hosts[1]!.storageVm!.datasets[1], { name: 'sp1/plain', share: undefined, datastore: undefined, replicateTo: undefined });
  assert.deepEqual(plan.replications, [
    { source: 'uss1:sp1/nas/vol0', target: 'uss2:sp2/nas/vol0', schedule: '0 1 * * * UTC' },
    { source: 'uss2:sp2/nas/vol1', target: 'uss1:sp1/nas/vol1', schedule: 'on demand (no schedule)' },
  ]);
  assert.match(formatPlan(plan), /\n {4}dataset sp1\/plain\n/);
  assert.doesNotMatch(formatPlan(planOf(withChanges([[['hosts', 1, 'storageVm', 'datasets', 0, 'replicateTo'], undefined], [['hosts', 2, 'storageVm', 'datasets', 0, 'replicateTo'], undefined]]))), /replication:/);
});

test('NFS share options as sharenfs writes them', () => {
  assert.equal(nfsShareOptions({ rw: true, nosuid: true, root: [] }), 'rw,nosuid');
  assert.equal(nfsShareOptions({ rw: false, nosuid: false, root: ['a', 'b'] }), 'ro,root=a:b');
});
