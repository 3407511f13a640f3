/**
 * registerDatastore against the lab's vSphere over HTTPS and SOAP with a real Temporal dev server:
 * from a fresh model the storage vSwitch's port groups, the VMkernel NIC and the NFS datastore on
 * two hosts; a second run changes nothing; a datastore name taken by another export, and a
 * VMkernel NIC with another address, refused naming both, nothing changed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { registerDatastore } from '../../workflows';
import { Failure } from '../../core/failures';
import type { AccessMode, HostMounts, RegisterDatastoreInput, RegisterDatastoreResult } from '../../core/datastore/shared';
import { HostSystem, Session, retrieveOne, type HostNasVolume } from '../../activities/vsphere';
import { startVsphereSim, type VsphereSim } from '../../lab/vsphere';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';
import { recordHistory } from '../helpers/record-history';

const PASSWORD_ENV = 'ESXI_ZFS_TEST_VSPHERE_PASSWORD_DS';
let sim: VsphereSim;
let temporal: TestTemporal;
let dir: string;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-datastore-'));
  sim = await startVsphereSim({ dir, hosts: ['vh0', 'vh1', 'vh2'].map((name, i) => ({ name, address: `10.213.9.${10 + i}` })) });
  process.env[PASSWORD_ENV] = sim.password;
  temporal = await startTestTemporal('datastore');
});

after(async () => {
  await temporal?.stop();
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function hostMounts(name: string, vmkernelAddress: string, datastore = 'uss1-nas-vol0', remotePath = '/export/uss1-nas-vol0', accessMode: AccessMode = 'readWrite'): HostMounts {
  return {
    host: { name, vsphere: { url: sim.url, credential: { user: sim.username, passwordEnv: PASSWORD_ENV }, thumbprint: sim.thumbprint } },
    storageNetwork: { vswitch: 'vSwitch1', portGroup: 'eSAN', vmkernel: { name: 'eSAN-Interface1', address: vmkernelAddress } },
    mounts: [{ datastore, remoteHost: '10.0.1.41', remotePath, nfsVersion: '3', accessMode }],
  };
}

let runs = 0;
const workflowIdOf = (run: number) => `datastore-lab-${process.pid}-${run}`;
const run = (input: RegisterDatastoreInput): Promise<RegisterDatastoreResult> =>
  temporal.withWorker(async () => (await temporal.client.workflow.start(registerDatastore, { args: [input], taskQueue: temporal.taskQueue, workflowId: workflowIdOf(++runs) })).result());

/** What the host reports, read with the client directly: its VMkernel NICs and NFS datastores. */
async function seen(host: string) {
  const session = await Session.connect({ url: sim.url, trust: { thumbprint: sim.thumbprint } });
  try {
    await session.login({ userName: sim.username, password: sim.password });
    const h = await HostSystem.find(session, host);
    const network = await (await h.networkSystem()).networkInfo();
    const datastores = await Promise.all((await (await h.datastoreSystem()).datastores()).map(async (d) => {
      const p = await retrieveOne(session, d, ['summary.name', 'info']);
      return { name: String(p['summary.name']), nas: (p.info as { nas?: HostNasVolume }).nas };
    }));
    return {
      vnics: network.vnic.map((v) => `${v.portgroup} ${v.spec.ip?.ipAddress}/${v.spec.ip?.subnetMask}`),
      portgroups: network.portgroup.map((p) => `${p.spec.vswitchName}/${p.spec.name}`),
      nfs: datastores.filter((d) => d.nas).map((d) => `${d.name} ${d.nas!.remoteHost}:${d.nas!.remotePath}`),
    };
  } finally {
    await session.close();
  }
}

test('from a fresh model: port groups, VMkernel NIC and the NFS datastore on both hosts; again: nothing changes', async () => {
  const input = { vm: 'uss1', hosts: [hostMounts('vh0', '10.0.1.10/24'), hostMounts('vh1', '10.0.1.11/24')] };
  const first = await run(input);
  await recordHistory(temporal.client, workflowIdOf(runs), 'registerDatastore');
  for (const h of first.hosts) {
    const changed = h.steps.flatMap((s) => s.report.changed);
    assert.ok(changed.some((c) => /port group eSAN added/.test(c)) && changed.some((c) => /VMkernel NIC vmk\d+ 10\.0\.1\.1\d\/24 on eSAN-Interface1/.test(c)), changed.join('\n'));
    assert.ok(changed.includes('datastore uss1-nas-vol0 mounted: 10.0.1.41:/export/uss1-nas-vol0 (NFS, readWrite)'), changed.join('\n'));
  }
  const vh1 = await seen('vh1');
  assert.ok(vh1.vnics.includes('eSAN-Interface1 10.0.1.11/255.255.255.0'), vh1.vnics.join(', '));
  assert.ok(vh1.portgroups.includes('vSwitch1/eSAN') && vh1.portgroups.includes('vSwitch1/eSAN-Interface1'), vh1.portgroups.join(', '));
  assert.deepEqual(vh1.nfs, ['uss1-nas-vol0 10.0.1.41:/export/uss1-nas-vol0']);

  const again = await run(input);
  assert.deepEqual(again.hosts.flatMap((h) => h.steps.flatMap((s) => s.report.changed)), [], 'a second run changes nothing');

  // The same export under its name, but the inventory now wants it read-only: a different mount, refused naming both.
  const readOnly = await run({ vm: 'uss1', hosts: [hostMounts('vh1', '10.0.1.11/24', 'uss1-nas-vol0', '/export/uss1-nas-vol0', 'readOnly')] }).then(() => undefined, (e: unknown) => e);
  assert.ok(readOnly instanceof WorkflowFailedError);
  assert.match((readOnly.cause as ApplicationFailure).message, /vh1: datastore uss1-nas-vol0 is 10\.0\.1\.41:\/export\/uss1-nas-vol0 \(NFS, readWrite\), the inventory's is 10\.0\.1\.41:\/export\/uss1-nas-vol0 \(NFS, readOnly\)/);
});

test('a datastore name taken by another export, a VMkernel NIC with another address: each refused naming both, nothing changed', async () => {
  await run({ vm: 'uss2', hosts: [hostMounts('vh2', '10.0.1.12/24', 'shared-name', '/export/other')] });
  const error = await run({ vm: 'uss1', hosts: [hostMounts('vh2', '10.0.1.12/24', 'shared-name'), hostMounts('vh0', '10.0.1.99/24')] }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof WorkflowFailedError);
  const cause = error.cause as ApplicationFailure;
  assert.equal(cause.type, Failure.DatastoreHostsFailed);
  assert.match(cause.message, /vh2: datastore shared-name is 10\.0\.1\.41:\/export\/other \(NFS, readWrite\), the inventory's is 10\.0\.1\.41:\/export\/uss1-nas-vol0 \(NFS, readWrite\)/);
  assert.match(cause.message, /vh0: VMkernel NIC vmk\d+ on eSAN-Interface1 has 10\.0\.1\.10\/255\.255\.255\.0, the inventory 10\.0\.1\.99\/24/);
  assert.deepEqual((await seen('vh2')).nfs, ['shared-name 10.0.1.41:/export/other'], 'nothing changed');
  assert.ok((await seen('vh0')).vnics.includes('eSAN-Interface1 10.0.1.10/255.255.255.0'));
});
