/** enablePassthrough's input from the inventory: the runbook's X1 on vh1 and vh2, defaults, no secret. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseInventory, requireInventory } from '../../inventory/load';
import { enablePassthroughInput, passthroughHosts } from '../../inventory/passthrough';
import { readFileSync } from 'node:fs';

const file = path.join(__dirname, '../../examples/runbook.yaml');
const runbook = requireInventory(file);

test('the runbook\'s cluster: the X1 by vendor and class on vh1 and vh2, 30 min to come back, maintenance mode, running VMs refused', () => {
  assert.deepEqual(passthroughHosts(runbook), ['vh1', 'vh2']);
  const input = enablePassthroughInput(runbook, 'vh1');
  assert.deepEqual(input, {
    host: { name: 'vh1', vsphere: { url: 'https://vcenter.example/sdk', credential: { user: 'administrator@vsphere.local', passwordEnv: 'VSPHERE_PASSWORD' }, thumbprint: '5F:2A:91:0C:7B:44:E3:18:AA:D0:6E:93:21:BC:47:F5:08:9D:3E:9A' } },
    device: { vendorId: '0x19e3', classId: '0x0100' },
    rebootTimeoutMs: 30 * 60_000,
    maintenanceMode: true,
    runningVms: 'refuse',
  });
  process.env.VSPHERE_PASSWORD = 'not-in-any-input';
  assert.ok(!JSON.stringify(enablePassthroughInput(runbook, 'vh1')).includes('not-in-any-input'), 'the password is named by its variable, never read here');
  assert.throws(() => enablePassthroughInput(runbook, 'vh0'), /vh0 has no passthrough device/);
});

test('maintenanceMode and runningVms as written; anything else is refused by the schema', () => {
  const text = readFileSync(file, 'utf8').replace('rebootTimeout: 30m }   # DDRdrive X1', 'rebootTimeout: 5m, maintenanceMode: false, runningVms: powerOff }');
  const loaded = parseInventory(text, 'x.yaml');
  assert.ok(loaded.ok);
  const input = enablePassthroughInput(loaded.inventory, 'vh1');
  assert.equal(input.rebootTimeoutMs, 5 * 60_000);
  assert.equal(input.maintenanceMode, false);
  assert.equal(input.runningVms, 'powerOff');
  const bad = parseInventory(text.replace('runningVms: powerOff', 'runningVms: migrate'), 'x.yaml');
  assert.ok(!bad.ok);
  assert.match(bad.problems[0]!.path, /hosts\[1\]\.passthrough\.runningVms/);
});
