/**
 * installReceiveGuard's choice of privilege, on a recording fake transport (no host): `zfs allow`
 * delegation where the pool answers `zfs allow` (OpenZFS on Linux, illumos), the exact-argument sudo
 * rule where it does not (zfs-fuse). The lab runs the sudo case for real (test/lab/trust.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installReceiveGuard } from '../../activities/guest/receive-guard';
import { GUARD_PATH, sudoersFile } from '../../core/trust/shared';
import type { StorageHostRef } from '../../core/hosts';
import { RecordingTransport, type Rule } from '../helpers/recording-transport';

const host = (os: StorageHostRef['os']): StorageHostRef => ({
  name: 'uss2', os, address: '192.0.2.42', hostKey: 'ssh-ed25519 AAAA', credential: { user: 'root' }, storageAddress: '10.0.1.42',
});
const SUDOERS = sudoersFile('zfsadm');
const input = { user: 'zfsadm', datasets: ['sp2/nas/vol0'] };

function rules(zfsAllow: { code: number; stderr?: string }, pools = true): Rule[] {
  return [
    { match: /command -v/, reply: { stdout: 'zfs /usr/sbin/zfs\nsudo /usr/bin/sudo\nvisudo /usr/sbin/visudo\nperl /usr/bin/perl\n' } },
    { match: /^\/usr\/sbin\/zfs list -H -o name sp2(\/nas)?$/, reply: { code: pools ? 0 : 1, stderr: pools ? '' : "cannot open 'sp2': dataset does not exist" } },
    { match: /^\/usr\/sbin\/zfs allow -u zfsadm /, reply: { code: 0 } },
    { match: /^\/usr\/sbin\/zfs allow sp2(\/nas)?$/, reply: pools ? { code: zfsAllow.code, stderr: zfsAllow.stderr ?? '' } : { code: 1, stderr: "cannot open 'sp2/nas': dataset does not exist" } },
    { match: /^grep -Eq .*sudoers$/, reply: { code: 0 } },
    { match: /^rm -f /, reply: { code: 0 } },
  ];
}

test('OpenZFS on Linux answers zfs allow: delegation, a guard without sudo, and a sudo rule from before removed', async () => {
  const transport = new RecordingTransport(rules({ code: 0 }));
  transport.putFile('uss2', SUDOERS, 'zfsadm ALL=(root) NOPASSWD: ...\n', '-r--r-----');
  const result = await installReceiveGuard(transport, host('linux'), input);
  assert.deepEqual(transport.ran('uss2', /zfs allow -u/), ['/usr/sbin/zfs allow -u zfsadm receive,create,mount,hold,release sp2/nas']);
  const guard = transport.file('uss2', GUARD_PATH)!;
  assert.doesNotMatch(guard, /sudo/, 'the delegated user runs zfs itself');
  assert.match(guard, /\/usr\/bin\/perl/, 'Linux: the guard grows its stdin pipe');
  assert.deepEqual(transport.ran('uss2', /^rm -f/), [`rm -f ${SUDOERS}`]);
  assert.ok(result.changed.some((c) => c.includes('zfs allow delegation')), result.changed.join('\n'));
  assert.ok(result.changed.includes(`removed ${SUDOERS} (zfs allow delegates instead)`), result.changed.join('\n'));
  assert.equal(transport.writes.some((w) => w.path === SUDOERS), false);
});

test('zfs-fuse cannot delegate (its zfs allow fails): the exact-argument sudo rule, checked by visudo, and a guard through sudo', async () => {
  const transport = new RecordingTransport(rules({ code: 1, stderr: 'zfs allow: python helper missing' }));
  const result = await installReceiveGuard(transport, host('linux'), input);
  assert.deepEqual(transport.ran('uss2', /zfs allow -u/), [], 'nothing delegated');
  const sudoers = transport.writes.find((w) => w.path === SUDOERS);
  assert.ok(sudoers, 'the sudo rule is written');
  assert.deepEqual(sudoers.spec.validate, ['/usr/sbin/visudo', '-cf']);
  assert.equal(sudoers.spec.mode, '440');
  assert.match(sudoers.content, /zfs receive -u sp2\/nas\/vol0/);
  assert.match(transport.file('uss2', GUARD_PATH)!, /\/usr\/bin\/sudo -n \/usr\/sbin\/zfs/);
  assert.ok(result.changed.some((c) => c.includes('(sudo rule)')), result.changed.join('\n'));

  const again = await installReceiveGuard(transport, host('linux'), input);
  assert.deepEqual(again.changed, [], 'a second run changes nothing');
});

test('with no pool to ask yet, the OS decides (illumos: delegation) and the run says the parents wait for the pool', async () => {
  const transport = new RecordingTransport(rules({ code: 0 }, false));
  const result = await installReceiveGuard(transport, host('illumos'), input);
  assert.doesNotMatch(transport.file('uss2', GUARD_PATH)!, /sudo|perl/, 'illumos: no sudo, no Linux pipe growth');
  assert.deepEqual(result.warnings, [
    'pool sp2 does not exist yet: sp2/nas not created; run trust again after configureStorage',
    "sp2/nas: cannot read its delegations (cannot open 'sp2/nas': dataset does not exist)",
  ]);
  assert.deepEqual(transport.ran('uss2', /zfs create/), []);
});
