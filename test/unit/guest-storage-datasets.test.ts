/**
 * Datasets: `zfs get -H -p -o name,property,value,source all` (captured on zfs-fuse) and
 * planDatasets; ZFS sizes; the runbook's dedup memory rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetSpec } from '../../core/configure/shared';
import { datasetFactsRead, datasetReadErrors, parseDatasetFacts, planDatasets } from '../../core/guest/storage/datasets';
import { dedupMemoryGiB, dedupMemoryWarning, dedupOn, usableBytes } from '../../core/guest/storage/dedup';
import type { ResolvedVdev } from '../../core/guest/storage/disks';
import { sameValue } from '../../core/guest/storage/property-values';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/guest', name), 'utf8');
const ZFS = { zfs: 'zfs' };
const GiB = 2 ** 30;
const TiB = 2 ** 40;

test('zfs get (captured on zfs-fuse): every property with its source; a missing dataset is absent and only that on stderr', () => {
  const facts = parseDatasetFacts(fixture('zfs-fuse-zfs-get-drifted.txt'));
  assert.deepEqual([...facts.keys()], ['sp1/nas', 'sp1/nas/vol1']);
  assert.deepEqual(facts.get('sp1/nas/vol1')!.get('quota'), { value: '1073741824', source: 'local' });
  assert.deepEqual(facts.get('sp1/nas/vol1')!.get('mountpoint'), { value: '/sp1/nas/vol1', source: 'default' });
  assert.deepEqual(facts.get('sp1/nas')!.get('used')!.source, '-');
  assert.deepEqual(datasetReadErrors(fixture('zfs-fuse-zfs-get-drifted.stderr')), []);
  assert.deepEqual(datasetReadErrors("cannot open 'sp1/x': dataset does not exist\ninternal error: out of memory\n"), ['internal error: out of memory']);
  assert.deepEqual(datasetFactsRead('/usr/sbin/zfs', ['sp1/nas/vol0']), ['/usr/sbin/zfs', 'get', '-H', '-p', '-o', 'name,property,value,source', 'all', 'sp1/nas/vol0']);
  assert.deepEqual(parseDatasetFacts('sp1/a\tcom.example:note\tx\ty\tlocal\n').get('sp1/a')!.get('com.example:note'), { value: 'x\ty', source: 'local' });
  assert.throws(() => parseDatasetFacts('sp1/a\tquota\t0\n'), /was it run with -H -o name,property,value,source/);
});

test('sizes: the inventory\'s human values against ZFS\'s exact ones', () => {
  assert.ok(sameValue('quota', '10G', '10737418240'));
  assert.ok(sameValue('recordsize', '128K', '131072'));
  assert.ok(sameValue('refquota', 'none', '0'));
  assert.ok(!sameValue('quota', '10G', '1073741824'));
  assert.ok(!sameValue('copies', '2G', '2147483648'), 'only size properties are sizes');
  assert.ok(sameValue('mountpoint', '/export/vol0/', '/export/vol0'));
  assert.ok(!sameValue('compression', 'on', 'lz4'));
});

const vol0: DatasetSpec = { name: 'sp1/nas/vol0', mountpoint: '/export/uss1-nas-vol0', properties: { dedup: 'on' } };

test('a missing dataset: zfs create -p with its mountpoint first, then its properties', () => {
  const plan = planDatasets([vol0], new Map(), { zfs: '/usr/sbin/zfs' });
  assert.deepEqual(plan, {
    commands: [
      {
        argv: ['/usr/sbin/zfs', 'create', '-p', '-o', 'mountpoint=/export/uss1-nas-vol0', '-o', 'dedup=on', 'sp1/nas/vol0'],
        change: 'created sp1/nas/vol0 (mountpoint=/export/uss1-nas-vol0, dedup=on)',
      },
    ],
    found: ['sp1/nas/vol0 does not exist'],
    warnings: [],
  });
  const bare = planDatasets([{ name: 'sp1/x', properties: {} }], new Map(), ZFS);
  assert.deepEqual(bare.commands, [{ argv: ['zfs', 'create', '-p', 'sp1/x'], change: 'created sp1/x' }]);
});

test('the dataset in place (captured on zfs-fuse): nothing to do, what is in place said', () => {
  const plan = planDatasets([vol0], parseDatasetFacts(fixture('zfs-fuse-zfs-get-finished.txt')), ZFS);
  assert.deepEqual(plan, { commands: [], found: ['sp1/nas/vol0 exists: mountpoint=/export/uss1-nas-vol0, dedup=on in place'], warnings: [] });
});

test('drift found and fixed: a value that differs, a size compared exactly, a default or inherited value set locally; other properties untouched', () => {
  const facts = parseDatasetFacts(fixture('zfs-fuse-zfs-get-drifted.txt'));
  const spec: DatasetSpec = { name: 'sp1/nas/vol1', mountpoint: '/export/uss2-nas-vol1', properties: { quota: '1G', dedup: 'off', compression: 'on' } };
  const plan = planDatasets([spec], facts, ZFS);
  assert.deepEqual(plan.commands, [
    { argv: ['zfs', 'set', 'mountpoint=/export/uss2-nas-vol1', 'sp1/nas/vol1'], change: 'sp1/nas/vol1: set mountpoint=/export/uss2-nas-vol1 (was /sp1/nas/vol1 (default))' },
    { argv: ['zfs', 'set', 'dedup=off', 'sp1/nas/vol1'], change: 'sp1/nas/vol1: set dedup=off (was off (default))' },
    { argv: ['zfs', 'set', 'compression=on', 'sp1/nas/vol1'], change: 'sp1/nas/vol1: set compression=on (was off (default))' },
  ]);
  assert.deepEqual(plan.found, [
    'sp1/nas/vol1: mountpoint is /sp1/nas/vol1 (default), the inventory says /export/uss2-nas-vol1',
    'sp1/nas/vol1: dedup is off but default: set locally so zfs send -p carries it',
    'sp1/nas/vol1: compression is off (default), the inventory says on',
    'sp1/nas/vol1 exists: quota=1G in place',
  ]);
  const inherited = new Map([['sp1/nas/vol1', new Map([['mountpoint', { value: '/export/other/vol1', source: 'inherited from sp1/nas' }]])]]);
  const same = planDatasets([{ name: 'sp1/nas/vol1', mountpoint: '/export/other/vol1', properties: {} }], inherited, ZFS);
  assert.deepEqual(same.found, ['sp1/nas/vol1: mountpoint is /export/other/vol1 but inherited from sp1/nas: set locally so zfs send -p carries it']);
  assert.equal(same.commands.length, 1);
});

test('parents before children; properties fixed at creation are reported, never set', () => {
  const facts = new Map([['sp1/a', new Map([['casesensitivity', { value: 'sensitive', source: '-' }]])]]);
  const plan = planDatasets(
    [{ name: 'sp1/a/b', properties: {} }, { name: 'sp1/a', properties: { casesensitivity: 'mixed' } }, { name: 'sp1/c', properties: { casesensitivity: 'mixed' } }],
    facts,
    ZFS,
  );
  assert.deepEqual(plan.commands.map((c) => c.argv), [
    ['zfs', 'create', '-p', '-o', 'casesensitivity=mixed', 'sp1/c'],
    ['zfs', 'create', '-p', 'sp1/a/b'],
  ]);
  assert.deepEqual(plan.warnings, ['sp1/a: casesensitivity is sensitive and is fixed when a dataset is created: the inventory\'s mixed needs a new dataset (data copied over)']);
});

test('dedup memory: the runbook\'s 8 GB per TB plus a 2 GiB base; its own 4 GB VM with a 254 GB pool passes', () => {
  assert.equal(dedupMemoryGiB(0), 2);
  assert.equal(dedupMemoryGiB(TiB), 10);
  assert.equal(dedupMemoryWarning(4, 254 * GiB), undefined, 'the runbook\'s uss1: 2 + 8 x 254/1024 = 3.98 GiB');
  assert.equal(dedupMemoryWarning(10, TiB), undefined);
  assert.equal(
    dedupMemoryWarning(4, TiB),
    'dedup on up to 1.00 TiB of data wants about 10.0 GiB of memory (the runbook\'s 8 GB per TB, plus 2 GiB for the OS) and the VM has 4 GiB: without the dedup table in memory every write waits on disk reads. Raise memoryGiB to at least 10, or turn dedup off',
  );
  assert.ok(dedupOn('on') && dedupOn('sha256,verify') && !dedupOn('off') && !dedupOn(undefined));
});

test('usable bytes of the data vdevs: a mirror its smallest disk, raidz2 all but two', () => {
  const vdev = (kind: ResolvedVdev['kind'], sizes: number[]): ResolvedVdev => ({
    kind,
    path: 'pool.data[0]',
    disks: sizes.map((sizeBytes, i) => ({ path: '', device: `d${i}`, disk: { name: `d${i}`, aliases: [], sizeBytes, kind: 'block' } })),
  });
  assert.equal(usableBytes([vdev('disk', [256 * GiB])]), 256 * GiB);
  assert.equal(usableBytes([vdev('mirror', [300 * GiB, 256 * GiB]), vdev('raidz2', [GiB, GiB, GiB, 2 * GiB])]), 258 * GiB);
  assert.equal(usableBytes([vdev('raidz', [GiB, GiB, GiB])]), 2 * GiB);
});
