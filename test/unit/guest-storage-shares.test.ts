/**
 * sharenfs in each ZFS's dialect (illumos share_nfs; OpenZFS on Linux's libshare; zfs-fuse, whose
 * exportfs calls were read with strace in the lab), planShares, and the names a share needs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatasetSpec, ShareSpec } from '../../core/configure/shared';
import { parseGetentHosts, resolveNameRead } from '../../core/guest/storage/os';
import { isReshareFailure, namesToResolve, planShares, renderSharenfs, sharenfsDialect } from '../../core/guest/storage/shares';
import type { PropertyFact } from '../../core/guest/storage/datasets';

const RUNBOOK: ShareSpec = { rw: true, ro: [], nosuid: true, root: ['vh3-nas', 'vh2-nas', 'vh1-nas', 'vh0-nas'] };
const NOSUID = 'nosuid: Linux NFS exports have no such option, so the server cannot enforce it (mount with nosuid on the clients; ESXi never runs files from a datastore)';

test('the dialect: illumos; Linux with feature flags is OpenZFS; Linux with a pool version number is zfs-fuse', () => {
  assert.equal(sharenfsDialect('illumos', 22), 'illumos');
  assert.equal(sharenfsDialect('linux', 'feature-flags'), 'openzfs');
  assert.equal(sharenfsDialect('linux', 23), 'zfs-fuse');
});

test('illumos: the runbook\'s exact form, lists, read-only clients', () => {
  assert.deepEqual(renderSharenfs(RUNBOOK, 'illumos'), { sharenfs: 'rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas', warnings: [] });
  assert.equal(renderSharenfs({ rw: ['vh1-nas', 'vh2-nas'], ro: ['backup'], nosuid: false, root: ['vh1-nas'] }, 'illumos').sharenfs, 'rw=vh1-nas:vh2-nas,ro=backup,root=vh1-nas');
  assert.equal(renderSharenfs({ rw: [], ro: ['backup'], nosuid: true, root: [] }, 'illumos').sharenfs, 'ro=backup,nosuid');
  assert.throws(() => renderSharenfs({ rw: [], ro: [], nosuid: true, root: [] }, 'illumos'), /a share with no client/);
});

test('OpenZFS on Linux, the runbook\'s share: read-write with root for the root clients only, and why', () => {
  assert.deepEqual(renderSharenfs(RUNBOOK, 'openzfs'), {
    sharenfs: 'rw=vh3-nas:vh2-nas:vh1-nas:vh0-nas,no_root_squash',
    warnings: [
      'OpenZFS on Linux gives every client of a share the same root mapping: shared only with the clients that keep root (vh3-nas, vh2-nas, vh1-nas, vh0-nas), with no_root_squash; left out: every other client',
      NOSUID,
    ],
  });
});

test('OpenZFS on Linux: exact when every client has the same root mapping; narrowed, never widened, otherwise', () => {
  assert.deepEqual(renderSharenfs({ rw: true, ro: [], nosuid: false, root: [] }, 'openzfs'), { sharenfs: 'rw', warnings: [] });
  assert.deepEqual(renderSharenfs({ rw: ['a', 'b'], ro: ['c'], nosuid: false, root: ['a', 'b', 'c'] }, 'openzfs'), { sharenfs: 'rw=a:b,ro=c,no_root_squash', warnings: [] });
  assert.deepEqual(renderSharenfs({ rw: ['a'], ro: [], nosuid: false, root: ['z'] }, 'openzfs'), { sharenfs: 'rw=a', warnings: [] }, 'root for a client without access is nothing');
  const narrowed = renderSharenfs({ rw: ['a', 'b'], ro: ['c', 'd'], nosuid: false, root: ['a', 'd'] }, 'openzfs');
  assert.equal(narrowed.sharenfs, 'rw=a,ro=d,no_root_squash');
  assert.match(narrowed.warnings[0]!, /left out: b, c$/);
  assert.equal(renderSharenfs({ rw: true, ro: ['vh0-nas'], nosuid: false, root: ['vh0-nas', 'vh1-nas'] }, 'openzfs').sharenfs, 'rw=vh1-nas,ro=vh0-nas,no_root_squash');
});

test('zfs-fuse: HOST:OPTIONS entries, the spec exactly (per-client root), every client last', () => {
  assert.deepEqual(renderSharenfs({ rw: true, ro: [], nosuid: true, root: ['vh1-nas'] }, 'zfs-fuse'), { sharenfs: 'vh1-nas:rw,no_root_squash *:rw', warnings: [NOSUID] });
  assert.equal(
    renderSharenfs(RUNBOOK, 'zfs-fuse').sharenfs,
    'vh3-nas:rw,no_root_squash vh2-nas:rw,no_root_squash vh1-nas:rw,no_root_squash vh0-nas:rw,no_root_squash *:rw',
  );
  assert.equal(renderSharenfs({ rw: ['a'], ro: ['b', 'c'], nosuid: false, root: ['c'] }, 'zfs-fuse').sharenfs, 'a:rw b:ro c:ro,no_root_squash');
});

test('the names a share needs resolved, each once; the read command and its output', () => {
  assert.deepEqual(namesToResolve(RUNBOOK), ['vh3-nas', 'vh2-nas', 'vh1-nas', 'vh0-nas']);
  assert.deepEqual(namesToResolve({ rw: ['a', 'b'], ro: ['c'], nosuid: true, root: ['a', 'd'] }), ['a', 'b', 'c', 'd']);
  assert.deepEqual(resolveNameRead('vh1-nas'), ['getent', 'hosts', 'vh1-nas']);
  assert.deepEqual(parseGetentHosts('10.0.1.11      vh1-nas vh1-nas.esan\n'), ['10.0.1.11']);
  assert.deepEqual(parseGetentHosts(''), []);
});

const facts = (entries: [string, PropertyFact][]) => new Map(entries);

test('planShares: set where different or not local, nothing where equal, off where the inventory shares nothing', () => {
  const specs: DatasetSpec[] = [
    { name: 'sp1/nas/vol0', properties: {}, share: RUNBOOK },
    { name: 'sp1/nas/vol1', properties: {}, share: RUNBOOK },
    { name: 'sp1/nas/vol2', properties: {}, share: RUNBOOK },
    { name: 'sp1/nas/old', properties: {} },
    { name: 'sp1/nas/vol0/child', properties: {} },
    { name: 'sp1/nas/plain', properties: {} },
  ];
  const current = facts([
    ['sp1/nas/vol0', { value: 'rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas', source: 'local' }],
    ['sp1/nas/vol1', { value: 'rw', source: 'local' }],
    ['sp1/nas/vol2', { value: 'rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas', source: 'received' }],
    ['sp1/nas/old', { value: 'rw', source: 'local' }],
    ['sp1/nas/vol0/child', { value: 'rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas', source: 'inherited from sp1/nas/vol0' }],
    ['sp1/nas/plain', { value: 'off', source: 'default' }],
  ]);
  const plan = planShares(specs, current, { zfs: '/usr/sbin/zfs', dialect: 'illumos' });
  assert.deepEqual(plan.commands, [
    { argv: ['/usr/sbin/zfs', 'set', 'sharenfs=rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas', 'sp1/nas/vol1'], change: 'sp1/nas/vol1: set sharenfs=rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas (was rw (local))' },
    { argv: ['/usr/sbin/zfs', 'set', 'sharenfs=rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas', 'sp1/nas/vol2'], change: 'sp1/nas/vol2: set sharenfs=rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas (was rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas (received))' },
    { argv: ['/usr/sbin/zfs', 'set', 'sharenfs=off', 'sp1/nas/old'], change: 'sp1/nas/old: unshared: set sharenfs=off (was rw)' },
  ]);
  assert.deepEqual(plan.found, [
    'sp1/nas/vol0: shared (sharenfs=rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas)',
    'sp1/nas/vol1: sharenfs is rw (local), the inventory says rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas',
    'sp1/nas/vol2: sharenfs is rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas (received), the inventory says rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas',
    'sp1/nas/old: sharenfs=rw is set locally but the inventory shares nothing',
    'sp1/nas/vol0/child: shared by its parent (sharenfs=rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas, inherited from sp1/nas/vol0): not changed',
  ]);
  assert.deepEqual(plan.warnings, []);
});

test('planShares on Linux carries the dialect\'s warnings, per dataset; zfs-fuse\'s failed re-share is recognised', () => {
  const plan = planShares([{ name: 'sp1/nas/vol0', properties: {}, share: RUNBOOK }], new Map(), { zfs: 'zfs', dialect: 'openzfs' });
  assert.deepEqual(plan.commands.map((c) => c.argv), [['zfs', 'set', 'sharenfs=rw=vh3-nas:vh2-nas:vh1-nas:vh0-nas,no_root_squash', 'sp1/nas/vol0']]);
  assert.equal(plan.warnings.length, 2);
  assert.ok(plan.warnings.every((w) => w.startsWith('sp1/nas/vol0: ')));
  assert.ok(isReshareFailure("cannot share 'sp1/nas/vol0':  exportfs failed\nproperty may be set but unable to reshare filesystem\n"));
  assert.ok(!isReshareFailure("cannot set property for 'sp1/nas/vol0': 'sharenfs' cannot be set to invalid options\n"));
});

test('rw: false is read-only for every client, in each dialect; root kept where listed (narrowed on OpenZFS)', () => {
  const readOnly: ShareSpec = { rw: false, ro: [], nosuid: true, root: ['vh1-nas'] };
  assert.deepEqual(renderSharenfs(readOnly, 'illumos'), { sharenfs: 'ro,nosuid,root=vh1-nas', warnings: [] });
  assert.deepEqual(renderSharenfs(readOnly, 'zfs-fuse'), { sharenfs: 'vh1-nas:ro,no_root_squash *:ro', warnings: [NOSUID] });
  const openzfs = renderSharenfs(readOnly, 'openzfs');
  assert.equal(openzfs.sharenfs, 'ro=vh1-nas,no_root_squash');
  assert.match(openzfs.warnings[0]!, /shared only with the clients that keep root \(vh1-nas\).*left out: every other client/);
  assert.deepEqual(renderSharenfs({ ...readOnly, root: [], nosuid: false }, 'openzfs'), { sharenfs: 'ro', warnings: [] });
  assert.deepEqual(renderSharenfs({ ...readOnly, root: [], nosuid: false }, 'illumos'), { sharenfs: 'ro', warnings: [] });
});

test('zfs-fuse: a changed share is set off first (zfs-fuse keeps the old value\'s clients exported); not from off, not on other dialects', () => {
  const spec: DatasetSpec = { name: 'sp1/nas/vol0', properties: {}, share: { rw: ['vh1-nas'], ro: [], root: [], nosuid: false } };
  const rendered = renderSharenfs(spec.share!, 'zfs-fuse').sharenfs;
  const argvs = (dialect: 'zfs-fuse' | 'openzfs', fact?: PropertyFact) =>
    planShares([spec], facts(fact ? [['sp1/nas/vol0', fact]] : []), { zfs: 'zfs', dialect }).commands.map((c) => c.argv.slice(2).join(' '));
  const wider: PropertyFact = { value: 'vh1-nas:rw vh2-nas:rw', source: 'local' };
  assert.deepEqual(argvs('zfs-fuse', wider), ['sharenfs=off sp1/nas/vol0', `sharenfs=${rendered} sp1/nas/vol0`]);
  assert.deepEqual(argvs('zfs-fuse', { value: 'vh2-nas:rw', source: 'inherited from sp1/nas' }), ['sharenfs=off sp1/nas/vol0', `sharenfs=${rendered} sp1/nas/vol0`]);
  assert.deepEqual(argvs('zfs-fuse', { value: 'off', source: 'default' }), [`sharenfs=${rendered} sp1/nas/vol0`]);
  assert.deepEqual(argvs('zfs-fuse'), [`sharenfs=${rendered} sp1/nas/vol0`]);
  assert.deepEqual(argvs('zfs-fuse', { value: rendered, source: 'local' }), []);
  assert.deepEqual(argvs('openzfs', wider), [`sharenfs=${renderSharenfs(spec.share!, 'openzfs').sharenfs} sp1/nas/vol0`]);
});
