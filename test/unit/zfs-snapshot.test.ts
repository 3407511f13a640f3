import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byCreatetxg, fullName, isUint64Decimal, type Snapshot } from '../../core/zfs/snapshot';

const snap = (name: string, createtxg: string): Snapshot => ({ dataset: 'p/d', name, guid: '1', createtxg, creation: 0, userrefs: 0 });

test('isUint64Decimal: canonical unsigned decimals up to 2^64-1 only', () => {
  for (const ok of ['0', '1', '10', '9007199254740993', '18446744073709551615']) assert.equal(isUint64Decimal(ok), true, ok);
  for (const bad of ['', '01', '00', '-1', '+1', '1.0', '1e3', ' 1', '1 ', '0x1f', 'x1', '18446744073709551616']) {
    assert.equal(isUint64Decimal(bad), false, JSON.stringify(bad));
  }
});

test('byCreatetxg: numeric (not textual) order, 0 for equal txgs, exact past 2^53', () => {
  assert.equal(byCreatetxg(snap('a', '9'), snap('b', '10')), -1);
  assert.equal(byCreatetxg(snap('b', '10'), snap('a', '9')), 1);
  assert.equal(byCreatetxg(snap('a', '42'), snap('b', '42')), 0);
  assert.equal(byCreatetxg(snap('a', '9007199254740993'), snap('b', '9007199254740992')), 1);
});

test('fullName: dataset@name', () => {
  assert.equal(fullName(snap('esxi-zfs_20261125T235900Z', '1')), 'p/d@esxi-zfs_20261125T235900Z');
});
