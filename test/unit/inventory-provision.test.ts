/** The provisioning runbooks' inputs from the runbook's example inventory: what each host and the cluster run, and no secret in them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { requireInventory } from '../../inventory/load';
import { provisionClusterInput, provisionHostInput } from '../../inventory/provision';

const runbook = requireInventory(path.join(__dirname, '../../examples/runbook.yaml'));

test('the cluster: the hosts with a storage VM, each VM\'s shares on every listed host, the ring\'s trust and schedules', () => {
  const input = provisionClusterInput(runbook);
  assert.deepEqual(input.hosts.map((h) => [h.host, h.vm]), [['vh1', 'uss1'], ['vh2', 'uss2']]);
  assert.deepEqual(input.datastores.map((d) => [d.vm, d.hosts.map((h) => h.host.name)]), [['uss1', ['vh0', 'vh1', 'vh2', 'vh3']], ['uss2', ['vh0', 'vh1', 'vh2', 'vh3']]]);
  assert.deepEqual(input.trust?.edges.map((e) => `${e.source.name}->${e.target.name}:${e.targetDataset}`), ['uss1->uss2:sp2/nas/vol0', 'uss2->uss1:sp1/nas/vol1']);
  assert.deepEqual(input.schedules.map((j) => `${j.source.host.name}:${j.source.dataset}`), ['uss1:sp1/nas/vol0', 'uss2:sp2/nas/vol1']);
});

test('a host: its own passthrough, storage network, VM, storage and only its own host\'s mounts', () => {
  const vh1 = provisionHostInput(runbook, 'vh1');
  assert.equal(vh1.passthrough.host.name, 'vh1');
  assert.deepEqual(vh1.storageNetwork?.network.vmkernel, { name: 'eSAN-Interface1', address: '10.0.1.11/24' });
  assert.equal(vh1.storageVm.vm.name, 'uss1');
  assert.equal(vh1.configure.host.name, 'uss1');
  assert.deepEqual(vh1.datastores?.hosts.map((h) => h.host.name), ['vh1'], 'the other hosts are the cluster\'s to mount');
});

test('hosts without a storage VM or unknown are refused, naming them', () => {
  assert.throws(() => provisionHostInput(runbook, 'vh0'), /host vh0 has no storage VM/);
  assert.throws(() => provisionHostInput(runbook, 'vh9'), /no host vh9 in the inventory \(hosts: vh0, vh1, vh2, vh3\)/);
});

test('no secret in the inputs: credentials are names and variables', () => {
  const text = JSON.stringify(provisionClusterInput(runbook));
  assert.match(text, /"passwordEnv":"VSPHERE_PASSWORD"/);
  assert.doesNotMatch(text, /PRIVATE KEY|"password":/);
});
