/** ZFS property values: the inventory's human sizes against `zfs get -p`'s bytes, and the properties fixed at creation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDatasets } from '../../core/guest/storage/datasets';
import { CREATE_ONLY_PROPERTIES, sameValue } from '../../core/guest/storage/property-values';

test('every size property compares as bytes; other properties as text', () => {
  for (const property of ['quota', 'refquota', 'reservation', 'refreservation', 'recordsize', 'volsize', 'volblocksize', 'special_small_blocks']) {
    assert.ok(sameValue(property, '16K', '16384'), property);
    assert.ok(!sameValue(property, '16K', '16385'), property);
  }
  assert.ok(!sameValue('compression', '16K', '16384'));
  assert.ok(!sameValue('quota', 'lots', 'many'), 'two texts that are not sizes are not the same size');
  assert.ok(sameValue('quota', 'lots', 'lots'));
  assert.ok(sameValue('mountpoint', '/export/vol0//', '/export/vol0'));
  assert.ok(sameValue('mountpoint', '/', '/'));
  assert.ok(!sameValue('mountpoint', '/export/vol0', '/export/vol0/'));
});

test('properties fixed at creation: a different value is a warning, never a zfs set', () => {
  assert.deepEqual([...CREATE_ONLY_PROPERTIES].sort(), ['casesensitivity', 'encryption', 'keyformat', 'normalization', 'pbkdf2iters', 'utf8only', 'volblocksize']);
  for (const property of CREATE_ONLY_PROPERTIES) {
    const facts = new Map([['sp1/a', new Map([[property, { value: 'old', source: '-' }]])]]);
    const plan = planDatasets([{ name: 'sp1/a', properties: { [property]: 'new' } }], facts, { zfs: 'zfs' });
    assert.deepEqual(plan.commands, [], property);
    assert.deepEqual(plan.warnings, [`sp1/a: ${property} is old and is fixed when a dataset is created: the inventory's new needs a new dataset (data copied over)`]);
  }
});
