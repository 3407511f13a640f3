import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectOs, osMismatch } from '../../core/guest/os-detect';

test('uname names the profile: SunOS is illumos (OmniOS, OpenIndiana, snv_134), Linux is linux', () => {
  assert.deepEqual(detectOs('SunOS 5.11 omnios-r151046-4bba9da9f1\n'), { profile: 'illumos', uname: 'SunOS 5.11 omnios-r151046-4bba9da9f1' });
  assert.deepEqual(detectOs('SunOS 5.11 snv_134'), { profile: 'illumos', uname: 'SunOS 5.11 snv_134' });
  assert.deepEqual(detectOs('Linux 6.1.0-26-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)'), { profile: 'linux', uname: 'Linux 6.1.0-26-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)' });
  assert.equal(detectOs('FreeBSD 14.1-RELEASE').profile, undefined);
  assert.deepEqual(detectOs('  SunOS \t 5.11\n  snv_134 \n'), { profile: 'illumos', uname: 'SunOS 5.11 snv_134' }, 'blanks of any kind and length are one space');
  assert.deepEqual(detectOs('constructor x'), { profile: undefined, uname: 'constructor x' }, 'only the kernels it knows, not an object\'s own keys');
  assert.deepEqual(detectOs(''), { profile: undefined, uname: '' });
});

test('a mismatch names both sides and what to fix; a match is undefined', () => {
  assert.equal(osMismatch('linux', detectOs('Linux 6.1.0')), undefined);
  assert.match(osMismatch('illumos', detectOs('Linux 6.1.0'))!, /the inventory says os: illumos, but the guest is a linux guest \(uname: Linux 6\.1\.0\): fix the storage VM's os/);
  assert.match(osMismatch('linux', detectOs('FreeBSD 14.1-RELEASE'))!, /an OS esxi-zfs has no profile for \(uname: FreeBSD 14\.1-RELEASE\)/);
  assert.equal(
    osMismatch('linux', detectOs(`SunOS 5.11 ${'x'.repeat(200)}`)),
    `the inventory says os: linux, but the guest is an illumos guest (uname: SunOS 5.11 ${'x'.repeat(120 - 'SunOS 5.11 '.length)}): fix the storage VM's os in the inventory, or check that ssh.address reaches the right VM`,
  );
});
