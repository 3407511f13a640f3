/**
 * An existing pool's properties against the inventory's (core/guest/storage/pool-properties.ts),
 * on `zpool get all` captured from a lab host (zfs-fuse).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PoolSpec } from '../../core/configure/shared';
import { parsePoolProperties, planPoolProperties, poolPropertiesRead } from '../../core/guest/storage/pool-properties';

const captured = readFileSync(join(__dirname, '../fixtures/guest/zfs-fuse-zpool-get-all.txt'), 'utf8');
const spec = (properties: Record<string, string>): PoolSpec => ({ name: 'sp1', data: [], log: [], cache: [], spares: [], properties, force: false });

test('parsePoolProperties reads zpool get all: the header and other pools skipped, a value with spaces whole', () => {
  assert.deepEqual(poolPropertiesRead('/usr/sbin/zpool', 'sp1'), ['/usr/sbin/zpool', 'get', 'all', 'sp1']);
  const facts = parsePoolProperties(captured, 'sp1');
  assert.deepEqual(facts.get('autoexpand'), { value: 'on', source: 'local' });
  assert.deepEqual(facts.get('failmode'), { value: 'wait', source: 'default' });
  assert.deepEqual(facts.get('ashift'), { value: '0', source: 'default' });
  assert.deepEqual(facts.get('size'), { value: '1.98G', source: '-' });
  assert.equal(facts.has('PROPERTY'), false);
  assert.equal(facts.size, captured.trim().split('\n').length - 1);
  const other = parsePoolProperties(`${captured}tank  autoexpand  off  default\nsp1   comment  two  words  local\n`, 'sp1');
  assert.equal(other.get('autoexpand')?.value, 'on', 'another pool\'s row is not this pool\'s');
  assert.deepEqual(other.get('comment'), { value: 'two words', source: 'local' });
});

test('planPoolProperties: a differing settable property set, one per command; equal ones left; fixed or unknown ones warned about', () => {
  const current = parsePoolProperties(captured, 'sp1');
  const plan = planPoolProperties(spec({ autoexpand: 'on', failmode: 'continue', autoreplace: 'on', ashift: '12', version: '28', altroot: '/a', feature: 'x' }), current, 'zpool');
  assert.deepEqual(plan.commands, [
    { argv: ['zpool', 'set', 'failmode=continue', 'sp1'], change: 'pool sp1: set failmode=continue (was wait)' },
    { argv: ['zpool', 'set', 'autoreplace=on', 'sp1'], change: 'pool sp1: set autoreplace=on (was off)' },
  ]);
  assert.deepEqual(plan.found, [
    'pool sp1: failmode=wait (default), the inventory says continue',
    'pool sp1: autoreplace=off (default), the inventory says on',
    'pool sp1: ashift=0 (default), the inventory says 12',
    'pool sp1: version=23 (default), the inventory says 28',
    'pool sp1: altroot=- (default), the inventory says /a',
  ]);
  assert.deepEqual(plan.warnings, [
    'pool sp1: ashift is 0, not the inventory\'s 12, and is left so: the existing vdevs keep the ashift they were made with',
    'pool sp1: version is 23, not the inventory\'s 28, and is left so: a pool upgrade cannot be undone: run zpool upgrade by hand if it is meant',
    'pool sp1: altroot is -, not the inventory\'s /a, and is left so: it is set when a pool is imported',
    'pool sp1: this ZFS has no pool property feature: not set',
  ]);
  const same = planPoolProperties(spec({ autoexpand: 'on', failmode: 'wait' }), current, 'zpool');
  assert.deepEqual([same.commands, same.found, same.warnings], [[], [], []]);
});
