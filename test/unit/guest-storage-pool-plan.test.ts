/** planPool on hand-made resolved pools: spares, force, labels, added devices, special vdevs; zpool get's short lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PoolSpec } from '../../core/configure/shared';
import type { ResolvedDisk, ResolvedPool } from '../../core/guest/storage/disks';
import type { GuestDisk } from '../../core/guest/storage/guest-disk';
import { parsePoolProperties } from '../../core/guest/storage/pool-properties';
import { planPool } from '../../core/guest/storage/pool-plan';

const LINUX = { os: 'linux' as const, zpool: 'zpool' };
const disk = (name: string, label?: string): ResolvedDisk => {
  const d: GuestDisk = { name, aliases: [], sizeBytes: 2 ** 30, kind: 'block', ...(label !== undefined && { label }) };
  return { path: `pool.x[${name}]`, disk: d, device: name };
};
const one = (d: ResolvedDisk) => ({ kind: 'disk' as const, path: d.path, disks: [d] });
const spec = (force = false): PoolSpec => ({ name: 'sp1', data: [], log: [], cache: [], spares: [], properties: {}, force });
const none = { name: 'sp1', data: [], log: [], cache: [], spares: [], special: [] };

test('create: data only; data with two cache devices and two spares', () => {
  const a = disk('/dev/sda');
  const plain = planPool(spec(), { data: [one(a)], log: [], cache: [], spares: [] }, undefined, LINUX);
  assert.ok(plain.ok);
  assert.deepEqual(plain.commands, [{ argv: ['zpool', 'create', 'sp1', '/dev/sda'], change: 'created pool sp1: /dev/sda' }]);
  const full: ResolvedPool = { data: [one(a)], log: [], cache: [disk('/dev/sdb'), disk('/dev/sdc')], spares: [disk('/dev/sdd'), disk('/dev/sde')] };
  const plan = planPool(spec(), full, undefined, LINUX);
  assert.ok(plan.ok);
  assert.deepEqual(plan.commands, [{
    argv: ['zpool', 'create', 'sp1', '/dev/sda', 'cache', '/dev/sdb', '/dev/sdc', 'spare', '/dev/sdd', '/dev/sde'],
    change: 'created pool sp1: /dev/sda; cache /dev/sdb, /dev/sdc; spare /dev/sdd, /dev/sde',
  }]);
});

test('labels are overwritten only with force, and each one is named', () => {
  const resolved: ResolvedPool = { data: [one(disk('/dev/sda', 'an ext4 signature')), one(disk('/dev/sdb', 'a gpt partition table'))], log: [], cache: [], spares: [] };
  const forced = planPool(spec(true), resolved, undefined, LINUX);
  assert.ok(forced.ok);
  assert.deepEqual(forced.commands[0], {
    argv: ['zpool', 'create', '-f', 'sp1', '/dev/sda', '/dev/sdb'],
    change: "created pool sp1: /dev/sda, /dev/sdb (force: overwrote /dev/sda's an ext4 signature; /dev/sdb's a gpt partition table)",
  });
  const mixed = planPool(spec(true), { ...resolved, cache: [disk('/dev/sdc')] }, undefined, LINUX);
  assert.ok(mixed.ok);
  assert.match(mixed.commands[0]!.change, /\(force: overwrote \/dev\/sda's an ext4 signature; \/dev\/sdb's a gpt partition table\)$/, 'only the labelled disks');
  const unforced = planPool(spec(false), resolved, undefined, LINUX);
  assert.ok(unforced.ok);
  assert.deepEqual(unforced.commands[0], { argv: ['zpool', 'create', 'sp1', '/dev/sda', '/dev/sdb'], change: 'created pool sp1: /dev/sda, /dev/sdb' });
});

test('an existing pool: a labelled log device added with force; two cache devices added in one command', () => {
  const a = disk('/dev/sda');
  const log = disk('/dev/sdl', 'an xfs signature');
  const existing = { ...none, data: [{ kind: 'disk' as const, devices: ['sda'] }] };
  const plan = planPool(spec(true), { data: [one(a)], log: [one(log)], cache: [disk('/dev/sdb'), disk('/dev/sdc')], spares: [] }, existing, LINUX);
  assert.ok(plan.ok);
  assert.deepEqual(plan.commands, [
    { argv: ['zpool', 'add', '-f', 'sp1', 'log', '/dev/sdl'], change: 'added log /dev/sdl to pool sp1' },
    { argv: ['zpool', 'add', 'sp1', 'cache', '/dev/sdb', '/dev/sdc'], change: 'added cache /dev/sdb, /dev/sdc to pool sp1' },
  ]);
});

test('an existing pool with a special vdev the inventory cannot have: PoolLayoutDiffers', () => {
  const existing = { ...none, data: [{ kind: 'disk' as const, devices: ['sda'] }], special: [{ kind: 'disk' as const, devices: ['nvme0n1'] }] };
  const plan = planPool(spec(), { data: [one(disk('/dev/sda'))], log: [], cache: [], spares: [] }, existing, LINUX);
  assert.equal(plan.ok, false);
  assert.match(plan.ok ? '' : plan.conflict.message, /found sp1: \/dev\/sda; special nvme0n1; the inventory wants sp1: \/dev\/sda:/);
});

test('zpool get all: short rows are skipped, leading blanks are not', () => {
  assert.deepEqual([...parsePoolProperties('sp1 comment -\n  sp1 ashift 12 local\n', 'sp1')], [['ashift', { value: '12', source: 'local' }]]);
});
