/**
 * Hostile property values on a real lab host (zfs-fuse over SSH, issue 13): a user property whose
 * value holds tabs and line breaks, one of them forging a `sharenfs` row, and snapshot names with
 * spaces. The product's own readers (replication's dataset state, configureStorage's dataset
 * read, status) are run against it: a value is read whole or refused, never as another field or
 * another dataset. Unit-level cases of the same parsers: test/unit/hostile-output.test.ts.
 *
 *   sudo node --import tsx --test test/lab/fault-hostile-zfs.test.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { labDown, labExec, labUp, type LabState } from '../../lab/lab';
import { requireInventory } from '../../inventory/load';
import { storageHostRef, storageVms } from '../../inventory/targets';
import { SshPool } from '../../activities/ssh';
import { sshTransport, type Transport } from '../../activities/transport';
import { createDatasetActivities } from '../../activities/replication/datasets';
import { createStorageActivities } from '../../activities/guest/configure/storage';
import { createInspectStorageActivities } from '../../activities/guest/inspect';
import { ListingCutShortError } from '../../core/listing-end';
import type { StorageHostRef } from '../../core/hosts';
import { recorded } from '../helpers/reliability';

const DIR = path.resolve(__dirname, '../../.data/lab-hostile-zfs-test');
const DATASET = 'sp1/nas/vol0';
/** A note whose second line is a row of its own: sharenfs=rw for everyone, as a hostile host would print it. */
const FORGING_NOTE = `x\tlocal\n${DATASET}\tsharenfs\trw=@0.0.0.0/0\tlocal\nq\tw\te`;
const MULTI_LINE_NOTE = 'first line\nsecond\tline';

let lab: LabState;
let pool: SshPool;
let transport: Transport;
let host: StorageHostRef;

async function on(argv: string[]): Promise<string> {
  const r = await labExec(lab.hosts[0]!, argv);
  assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  lab = await labUp({ names: ['hostile-san-01'], dir: DIR });
  const inventory = requireInventory(lab.inventoryFile);
  host = storageHostRef(inventory, storageVms(inventory)[0]!);
  pool = new SshPool({ connectTimeoutMs: 5000 });
  transport = sshTransport(pool);
  await labExec(lab.hosts[0]!, ['zpool', 'destroy', 'sp1']);
  await on(['zpool', 'create', 'sp1', '/srv/disks/c8t1d0']);
  await on(['zfs', 'create', '-p', DATASET]);
  await on(['zfs', 'snapshot', `${DATASET}@before upgrade`]);
  await on(['zfs', 'snapshot', `${DATASET}@esxi-zfs_20261203T000000Z`]);
});

after(async () => {
  await pool?.closeAll();
  await labDown({ dir: DIR });
});

test('property values with tabs and line breaks on zfs-fuse: replication, configureStorage and status readers are not misled', recorded('hostile/property-values', async (r) => {
  await on(['zfs', 'set', `com.example:note=${FORGING_NOTE}`, DATASET]);
  assert.equal(await on(['zfs', 'get', '-H', '-o', 'value', 'com.example:note', DATASET]), `${FORGING_NOTE}\n`, 'zfs-fuse keeps the tabs and line breaks');
  r.happened(`com.example:note on ${DATASET} set to a value with tabs and line breaks whose second line forges a sharenfs=rw=@0.0.0.0/0 row (zfs-fuse stores it as is).`);

  const datasets = createDatasetActivities({ transport });
  const state = await datasets.readDatasetState({ host, dataset: DATASET });
  assert.deepEqual(state.snapshots?.map((s) => s.name), ['before upgrade', 'esxi-zfs_20261203T000000Z']);
  assert.equal(state.fence, undefined);
  r.verified('replication\'s readDatasetState: exactly the two snapshots, "before upgrade" (a name with a space) as one, no fence');

  const status = await createInspectStorageActivities({ transport }).inspectStorageVm({ ssh: host, pool: 'sp1', datasets: [{ name: DATASET, shared: true }] });
  const [vol0] = status.datasets;
  assert.deepEqual([vol0!.exists, vol0!.snapshots, vol0!.sharenfs, vol0!.newestSnapshot?.name], [true, 2, undefined, 'esxi-zfs_20261203T000000Z']);
  r.verified('status (inspectStorageVm): the dataset exists with 2 snapshots and no sharenfs: the forged sharenfs is not read');

  const storage = createStorageActivities({ transport });
  await assert.rejects(storage.configureDatasets(host, { datasets: [{ name: DATASET, properties: {} }], memoryGiB: 4 }), /sp1\/nas\/vol0 sharenfs is listed twice .*refusing to guess/);
  assert.equal((await on(['zfs', 'get', '-H', '-o', 'value', 'sharenfs', DATASET])).trim(), 'off');
  r.verified('configureStorage\'s dataset read (zfs get all) refuses the listing: sharenfs listed twice, refusing to guess; nothing set, sharenfs still off');

  await on(['zfs', 'set', `com.example:note=${MULTI_LINE_NOTE}`, DATASET]);
  const report = await storage.configureDatasets(host, { datasets: [{ name: DATASET, properties: { 'com.example:note': MULTI_LINE_NOTE } }], memoryGiB: 4 });
  assert.deepEqual(report.changed, []);
  assert.ok(report.found.some((f) => f.includes('in place')), report.found.join('; '));
  r.verified('an honest multi-line note with a tab ("first line\\nsecond\\tline") is read whole: the inventory\'s same value is in place, nothing changed');

  const missing = await datasets.readDatasetState({ host, dataset: 'sp1/nas/absent' });
  assert.equal(missing.snapshots, null);
  r.verified('the end-marked listing keeps zfs\'s exit status on real SSH: an absent dataset still reads as absent');

  const cutting: Transport = {
    ...transport,
    runScript: async (h, script, opts) => {
      const result = await transport.runScript(h, script, opts);
      return { ...result, stdout: result.stdout.slice(0, Math.floor(result.stdout.length / 2)), code: 0 };
    },
    runOk: async (h, command, opts) => {
      const result = await transport.runOk(h, command, opts);
      return { ...result, stdout: result.stdout.slice(0, Math.floor(result.stdout.length / 2)) };
    },
  };
  await assert.rejects(createDatasetActivities({ transport: cutting }).readDatasetState({ host, dataset: DATASET }), ListingCutShortError);
  r.verified('the same reads over real SSH with each output cut to half and exit 0: ListingCutShortError, no state');
}));
