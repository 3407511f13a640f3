/**
 * recoverDatastores' decisions with fake activities: nothing on a host before the storage VM's
 * exports answer; then every host refreshes, and only a datastore that is inaccessible, the
 * inventory's export and without running VMs is remounted; the rest is reported. Exports that never
 * answer fail the run naming the VM and the last answer; a failing host does not stop the others.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { recoverDatastores } from '../../workflows';
import { timeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { Failure } from '../../core/failures';
import {
  recoverDatastoresProgressQuery,
  type DatastoreView, type RecoverDatastoresActivities, type RecoverDatastoresInput,
} from '../../core/datastore/recover';
import type { NasMountSpec } from '../../core/datastore/shared';

const temporal = timeSkippingEnv();
const vsphere = { url: 'https://vcenter.example/sdk', credential: { user: 'u', passwordEnv: 'P' } };
const share = (datastore: string): NasMountSpec => ({ datastore, remoteHost: '10.0.1.41', remotePath: `/export/${datastore}`, nfsVersion: '3', accessMode: 'readWrite' });
const input: RecoverDatastoresInput = {
  vm: 'uss1',
  storageHost: { name: 'uss1', os: 'illumos', address: '192.0.2.41', hostKey: 'ssh-ed25519 AAAA', credential: { user: 'root', privateKeyFile: '/k' }, storageAddress: '10.0.1.41' },
  exports: ['/export/idle', '/export/busy', '/export/fine'],
  nfsVersion: 3,
  hosts: [
    { host: { name: 'vh0', vsphere }, mounts: [share('idle'), share('busy'), share('fine')] },
    { host: { name: 'vh1', vsphere }, mounts: [share('idle'), share('fine'), share('gone'), share('other')] },
  ],
  exportsTimeoutMs: 10 * 60_000,
};

/** What each host sees (vh0: idle and busy inaccessible, busy with app1 running; vh1: idle inaccessible, gone absent, other another export). */
function views(host: string, mounts: NasMountSpec[]): DatastoreView[] {
  const seen = (accessible: boolean, runningVms: string[] = [], exp?: string) => ({ export: exp ?? '', accessible, runningVms, ...(!accessible && { reason: 'AllPathsDown_Timeout' }) });
  return mounts.map((m) => {
    const exp = `${m.remoteHost}:${m.remotePath}`;
    if (m.datastore === 'idle') return { datastore: m.datastore, seen: seen(false, [], exp) };
    if (m.datastore === 'busy') return { datastore: m.datastore, seen: seen(false, host === 'vh0' ? ['app1', 'db1'] : [], exp) };
    if (m.datastore === 'gone') return { datastore: m.datastore };
    if (m.datastore === 'other') return { datastore: m.datastore, seen: seen(false, [], '10.0.1.99:/export/other') };
    return { datastore: m.datastore, seen: seen(true, [], exp) };
  });
}

function fake(opts: { answersAfter?: number; failHost?: string } = {}) {
  const calls: string[] = [];
  let checks = 0;
  const activities: RecoverDatastoresActivities = {
    async checkNfsExports(host, exports) {
      checks += 1;
      calls.push(`check ${host.name}`);
      if (checks === 1) throw new Error('ssh uss1: connect ECONNREFUSED 192.0.2.41:22');
      if (opts.answersAfter === undefined || checks < opts.answersAfter) {
        return { answered: false, missing: exports, detail: 'NFS 3 does not answer on 10.0.1.41:2049 (uss1: 10.0.1.41: RPC: Remote system error - Connection refused)' };
      }
      return { answered: true, missing: [], detail: `NFS answers on 10.0.1.41 and exports ${exports.join(', ')}` };
    },
    async refreshHostStorage(host, datastores) {
      calls.push(`refresh ${host.name}`);
      if (host.name === opts.failHost) throw ApplicationFailure.nonRetryable(`vSphere: u cannot log in (InvalidLogin)`, Failure.VsphereLogin);
      return { found: datastores.map((d) => `RefreshDatastore ${d}`), changed: [], warnings: [] };
    },
    async readNasDatastores(host, mounts) {
      calls.push(`read ${host.name}`);
      return views(host.name, mounts);
    },
    async remountNasDatastore(host, mount) {
      calls.push(`remount ${host.name} ${mount.datastore}`);
      return { datastore: mount.datastore, state: 'remounted' };
    },
  };
  return { calls, activities };
}

let runs = 0;
async function run(activities: RecoverDatastoresActivities, args = input) {
  const taskQueue = `recover-test-${process.pid}-${++runs}`;
  const worker = await Worker.create({
    connection: temporal.env.nativeConnection, namespace: temporal.env.namespace ?? 'default', workflowBundle: await workflowBundle(), taskQueue, activities,
  });
  return worker.runUntil(async () => {
    const handle = await temporal.env.client.workflow.start(recoverDatastores, { args: [args], taskQueue, workflowId: `recover-test-${process.pid}-${runs}` });
    const result = await handle.result();
    return { result, progress: await handle.query(recoverDatastoresProgressQuery) };
  });
}

test('waits for the exports, refreshes every host, remounts only the inaccessible idle datastores and reports the rest', async () => {
  const f = fake({ answersAfter: 3 });
  const { result, progress } = await run(f.activities);
  // Nothing on a host before the exports answered (the first look failed, the second had no exports).
  assert.deepEqual(f.calls.slice(0, 3), ['check uss1', 'check uss1', 'check uss1']);
  assert.equal(result.exportChecks, 3);
  assert.equal(result.exports.answered, true);
  assert.deepEqual(f.calls.filter((c) => c.startsWith('remount')).sort(), ['remount vh0 idle', 'remount vh1 idle']);
  const byHost = Object.fromEntries(result.hosts.map((h) => [h.host, Object.fromEntries(h.datastores.map((d) => [d.datastore, d]))]));
  assert.equal(byHost.vh0!.idle!.state, 'remounted');
  assert.equal(byHost.vh0!.fine!.state, 'accessible');
  assert.deepEqual(byHost.vh0!.busy!.runningVms, ['app1', 'db1']);
  assert.equal(byHost.vh0!.busy!.state, 'inaccessible');
  assert.match(byHost.vh0!.busy!.reason!, /inaccessible \(AllPathsDown_Timeout\) with running VMs on it \(app1, db1\): not remounted/);
  assert.equal(byHost.vh1!.gone!.state, 'missing');
  assert.match(byHost.vh1!.gone!.reason!, /not mounted on vh1: registerDatastore/);
  assert.equal(byHost.vh1!.other!.state, 'inaccessible');
  assert.match(byHost.vh1!.other!.reason!, /it is 10\.0\.1\.99:\/export\/other, the inventory's is 10\.0\.1\.41:\/export\/other: not touched/);
  for (const h of ['vh0', 'vh1']) assert.ok(f.calls.indexOf(`refresh ${h}`) < f.calls.indexOf(`read ${h}`) && f.calls.indexOf(`read ${h}`) < f.calls.indexOf(`remount ${h} idle`));
  assert.equal(progress.phase, 'done');
  assert.equal(progress.exportChecks, 3);
  assert.deepEqual(progress.hosts.map((h) => h.host).sort(), ['vh0', 'vh1']);
});

test('exports that never answer: the run fails at the deadline naming the VM and the last answer; no host is touched', async () => {
  const f = fake();
  await assert.rejects(run(f.activities, { ...input, exportsTimeoutMs: 2 * 60_000 }), (error: unknown) => {
    assert.ok(error instanceof WorkflowFailedError);
    const cause = error.cause as ApplicationFailure;
    assert.equal(cause.type, Failure.ExportsNotAnswering);
    assert.equal(cause.nonRetryable, true);
    assert.match(cause.message, /^uss1: its NFS exports did not answer within 120 s \(\d+ checks; last: NFS 3 does not answer on 10\.0\.1\.41:2049 \(uss1: 10\.0\.1\.41: RPC: Remote system error - Connection refused\)\)\. Nothing was refreshed or remounted on vh0, vh1/);
    return true;
  });
  assert.ok(f.calls.length >= 5 && f.calls.every((c) => c === 'check uss1'), f.calls.join(', '));
});

test('a host that fails does not stop the other; the run fails naming it, with every host\'s outcome', async () => {
  const f = fake({ answersAfter: 2, failHost: 'vh1' });
  await assert.rejects(run(f.activities), (error: unknown) => {
    assert.ok(error instanceof WorkflowFailedError);
    const cause = error.cause as ApplicationFailure;
    assert.equal(cause.type, Failure.DatastoreHostsFailed);
    assert.match(cause.message, /^uss1: 1 of 2 host\(s\) failed: vh1: vSphere: u cannot log in \(InvalidLogin\)$/);
    return true;
  });
  assert.ok(f.calls.includes('remount vh0 idle') && !f.calls.some((c) => c.startsWith('read vh1') || c.startsWith('remount vh1')));
});
