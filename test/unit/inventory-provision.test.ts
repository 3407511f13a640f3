/** provisionCluster's input from the runbook's inventory: who mounts which shares, and where each host's storage network is made. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { requireInventory } from '../../inventory/load';
import { provisionClusterInput } from '../../inventory/provision';

const runbook = requireInventory(path.join(__dirname, '../../examples/runbook.yaml'));

test('each VM\'s shares: on its own host in its provisionHost (the storage network is a step of its own), on the other hosts in the cluster step', () => {
  const input = provisionClusterInput(runbook);
  assert.deepEqual(input.hosts.map((h) => [h.host, h.vm]), [['vh1', 'uss1'], ['vh2', 'uss2']]);
  for (const h of input.hosts) assert.equal(h.storageNetwork?.host.name, h.host, `${h.host} makes its own storage network before its VM`);
  assert.deepEqual(input.hosts.map((h) => h.datastores!.hosts.map((m) => [m.host.name, 'storageNetwork' in m, m.mounts.map((x) => x.datastore)])), [
    [['vh1', false, ['uss1-nas-vol0']]],
    [['vh2', false, ['uss2-nas-vol1']]],
  ]);
  assert.deepEqual(input.datastores.map((d) => [d.vm, d.hosts.map((m) => m.host.name)]), [['uss1', ['vh0', 'vh2', 'vh3']], ['uss2', ['vh0', 'vh1', 'vh3']]]);
  const vh0 = input.datastores[0]!.hosts[0]!;
  assert.deepEqual(vh0.storageNetwork, { vswitch: 'vSwitch1', portGroup: 'eSAN', vmkernel: { name: 'eSAN-Interface1', address: '10.0.1.10/24' } }, 'a host without a storage VM gets its storage network here');
});
