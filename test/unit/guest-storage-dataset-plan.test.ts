/** planDatasets on existing datasets, property by property, and the readers of `zfs get`'s output and errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { datasetReadErrors, parseDatasetFacts, planDatasets } from '../../core/guest/storage/datasets';

const ZFS = { zfs: 'zfs' };
const facts = (name: string, props: Record<string, [string, string]>) =>
  new Map([[name, new Map(Object.entries(props).map(([k, [value, source]]) => [k, { value, source }]))]]);

test('zfs get\'s stderr: only "dataset does not exist" lines, whole and trimmed, are not failures', () => {
  assert.deepEqual(datasetReadErrors("  \ncannot open 'sp1/a': dataset does not exist \r\n"), []);
  assert.deepEqual(
    datasetReadErrors("x cannot open 'sp1/a': dataset does not exist\ncannot open 'sp1/a': dataset does not exist, and more\n"),
    ["x cannot open 'sp1/a': dataset does not exist", "cannot open 'sp1/a': dataset does not exist, and more"],
  );
});

test('zfs get\'s output: blank lines skipped; a short line named by its number', () => {
  assert.deepEqual([...parseDatasetFacts(' \nsp1/a\tquota\t0\tdefault\n').keys()], ['sp1/a']);
  assert.throws(() => parseDatasetFacts('sp1/a\tquota\t0\tdefault\nsp1/a\tquota\n'), {
    message: 'zfs get output line 2 is not "name<TAB>property<TAB>value<TAB>source" (was it run with -H -o name,property,value,source?): "sp1/a\\tquota"',
  });
});

test('parents before children, by depth (not by the name\'s length)', () => {
  const plan = planDatasets([{ name: 'sp1/a/b', properties: {} }, { name: 'sp1/abcdef', properties: {} }], new Map(), ZFS);
  assert.deepEqual(plan.commands.map((c) => c.argv.at(-1)), ['sp1/abcdef', 'sp1/a/b']);
  assert.deepEqual(plan.commands.map((c) => c.change), ['created sp1/abcdef', 'created sp1/a/b']);
});

test('an existing dataset: in place, not set, set elsewhere, or fixed at creation', () => {
  const current = facts('sp1/a', {
    quota: ['1073741824', 'local'],
    compression: ['lz4', 'inherited from sp1'],
    atime: ['off', '-'],
    recordsize: ['131072', 'default'],
  });
  const plan = planDatasets(
    [{ name: 'sp1/a', properties: { quota: '1G', compression: 'lz4', atime: 'off', recordsize: '1M', 'com.example:note': 'x', utf8only: 'on' } }],
    current,
    ZFS,
  );
  assert.deepEqual(plan.found, [
    'sp1/a: compression is lz4 but inherited from sp1: set locally so zfs send -p carries it',
    'sp1/a: atime is off but not local: set locally so zfs send -p carries it',
    'sp1/a: recordsize is 131072 (default), the inventory says 1M',
    'sp1/a: com.example:note is not set, the inventory says x',
    'sp1/a exists: quota=1G, utf8only=on in place',
  ]);
  assert.deepEqual(plan.commands.map((c) => c.change), [
    'sp1/a: set compression=lz4 (was lz4 (inherited from sp1))',
    'sp1/a: set atime=off (was off (-))',
    'sp1/a: set recordsize=1M (was 131072 (default))',
    'sp1/a: set com.example:note=x (was not set)',
  ]);
  assert.deepEqual(plan.warnings, []);
});

test('an existing dataset with nothing in place names no "exists" line; one with nothing wanted does', () => {
  const changed = planDatasets([{ name: 'sp1/a', properties: { atime: 'off' } }], facts('sp1/a', { atime: ['on', 'local'] }), ZFS);
  assert.deepEqual(changed.found, ['sp1/a: atime is on (local), the inventory says off']);
  const bare = planDatasets([{ name: 'sp1/a', properties: {} }], facts('sp1/a', { atime: ['on', 'local'] }), ZFS);
  assert.deepEqual(bare, { commands: [], found: ['sp1/a exists'], warnings: [] });
});
