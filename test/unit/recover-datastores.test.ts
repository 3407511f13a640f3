/** recoverDatastores' pure parts: the NFS server's export list as showmount prints it, and what to do with a datastore a host sees. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide } from '../../core/datastore/recover';
import { exportsCheck, parseShowmount } from '../../core/guest/storage/exports';

const mount = { datastore: 'uss1-nas-vol0', remoteHost: '10.0.1.41', remotePath: '/export/uss1-nas-vol0', nfsVersion: '3' as const };
const seen = (accessible: boolean, runningVms: string[] = [], exp = '10.0.1.41:/export/uss1-nas-vol0') => ({ datastore: mount.datastore, seen: { export: exp, accessible, runningVms, reason: 'AllPathsDown_Timeout' } });

test('showmount -e: illumos and Linux print a header, then PATH CLIENTS; the paths are read, nothing else', () => {
  const illumos = 'export list for 10.0.1.41:\n/export/uss1-nas-vol0 vh0-nas,vh1-nas,vh2-nas,vh3-nas\n/export/uss1-nas-vol1 (everyone)\n';
  assert.deepEqual(parseShowmount(illumos), ['/export/uss1-nas-vol0', '/export/uss1-nas-vol1']);
  const linux = 'Export list for 10.214.3.41:\n/export/rec-san-01-nas-vol0 10.214.3.12,10.214.3.11\n';
  assert.deepEqual(parseShowmount(linux), ['/export/rec-san-01-nas-vol0']);
  assert.deepEqual(parseShowmount('Export list for 10.214.3.41:\n'), []);
});

test('the exports answer only when every one is listed; the detail names what is missing', () => {
  assert.deepEqual(exportsCheck('10.0.1.41', ['/export/a', '/export/b'], ['/export/a']), { answered: true, missing: [], detail: '10.0.1.41 exports /export/a' });
  assert.deepEqual(exportsCheck('10.0.1.41', ['/export/a'], ['/export/a', '/export/b']), {
    answered: false, missing: ['/export/b'], detail: '10.0.1.41 answers but does not export /export/b (it exports /export/a)',
  });
});

test('decide: accessible is reported, running VMs keep it as it is, another export is never touched, only an idle inaccessible one is remounted', () => {
  assert.deepEqual(decide(mount, seen(true), 'vh1'), { datastore: 'uss1-nas-vol0', state: 'accessible' });
  assert.equal(decide(mount, seen(false), 'vh1'), 'remount');
  const busy = decide(mount, seen(false, ['app1']), 'vh1');
  assert.ok(busy !== 'remount' && busy.state === 'inaccessible' && busy.runningVms?.[0] === 'app1');
  const other = decide(mount, seen(false, [], '10.0.1.42:/export/x'), 'vh1');
  assert.ok(other !== 'remount' && other.state === 'inaccessible' && /not touched/.test(other.reason!));
  const missing = decide(mount, { datastore: mount.datastore }, 'vh1');
  assert.ok(missing !== 'remount' && missing.state === 'missing' && /not mounted on vh1/.test(missing.reason!));
});
