/** recoverDatastores' pure parts: the NFS server's export table as exportfs and share print it, what to do with a datastore a host sees, the command's output. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide } from '../../core/datastore/recover';
import { exportsCheck, parseExportfs, parseShare } from '../../core/guest/storage/exports';
import { formatRecoverResult, progressLine, unsettled } from '../../scripts/commands/recover-datastores';

const mount = { datastore: 'uss1-nas-vol0', remoteHost: '10.0.1.41', remotePath: '/export/uss1-nas-vol0', nfsVersion: '3' as const, accessMode: 'readWrite' as const };
const seen = (accessible: boolean, runningVms: string[] = [], exp = '10.0.1.41:/export/uss1-nas-vol0') => ({ datastore: mount.datastore, seen: { export: exp, accessible, runningVms, reason: 'AllPathsDown_Timeout' } });

test('the export table: exportfs -v (a long path alone on its line) and illumos share; the paths are read, nothing else', () => {
  const exportfs = '/export/rec-san-01-nas-very-long-name-busy\n\t\t10.213.1.1(rw,sync,wdelay,hide,no_subtree_check,sec=sys,secure,root_squash,no_all_squash)\n' +
    '/export/x     \t<world>(rw,sync,wdelay,hide,no_subtree_check,fsid=101,sec=sys,secure,no_root_squash,no_all_squash)\n' +
    '/export/x     \tvh1-nas(rw,no_root_squash)\n';
  assert.deepEqual(parseExportfs(exportfs), ['/export/rec-san-01-nas-very-long-name-busy', '/export/x']);
  assert.deepEqual(parseExportfs(''), []);
  const share = '-               /export/uss1-nas-vol0   rw,nosuid,root=vh3-nas:vh2-nas   ""\nvol1            /export/uss1-nas-vol1   ro   "backups"\n';
  assert.deepEqual(parseShare(share), ['/export/uss1-nas-vol0', '/export/uss1-nas-vol1']);
});

test('the exports answer only when every one is listed; the detail names what is missing', () => {
  assert.deepEqual(exportsCheck('10.0.1.41', ['/export/a', '/export/b'], ['/export/a']), { answered: true, missing: [], detail: 'NFS answers on 10.0.1.41 and exports /export/a' });
  assert.deepEqual(exportsCheck('10.0.1.41', ['/export/a'], ['/export/a', '/export/b']), {
    answered: false, missing: ['/export/b'], detail: 'NFS answers on 10.0.1.41 but does not export /export/b (it exports /export/a)',
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

test('the command\'s output: each datastore\'s state and reason, what is still not accessible, the progress while it waits', () => {
  const result = {
    vm: 'uss1', exportChecks: 4, exports: { answered: true, missing: [], detail: 'NFS answers on 10.0.1.41 and exports /export/uss1-nas-vol0' },
    hosts: [
      { host: 'vh0', datastores: [{ datastore: 'uss1-nas-vol0', state: 'remounted' as const }] },
      { host: 'vh1', datastores: [{ datastore: 'uss1-nas-vol0', state: 'inaccessible' as const, reason: 'with running VMs on it (app1)', runningVms: ['app1'] }] },
    ],
  };
  assert.equal(formatRecoverResult(result), [
    'uss1: NFS answers on 10.0.1.41 and exports /export/uss1-nas-vol0 (after 4 check(s))',
    '  vh0 uss1-nas-vol0: remounted',
    '  vh1 uss1-nas-vol0: inaccessible: with running VMs on it (app1)',
  ].join('\n'));
  assert.deepEqual(unsettled([result]), ['uss1 on vh1: uss1-nas-vol0 inaccessible']);
  assert.equal(
    progressLine('uss1', { phase: 'waitingForExports', deadline: '2026-12-03T11:30:00.000Z', exportChecks: 2, lastCheck: 'NFS 3 does not answer on 10.0.1.41:2049', hosts: [] }),
    'uss1: waiting for its NFS exports (look 2, until 2026-12-03T11:30:00.000Z): NFS 3 does not answer on 10.0.1.41:2049',
  );
  assert.equal(progressLine('uss1', { phase: 'refreshing', deadline: '', exportChecks: 3, hosts: [{ host: 'vh0', datastores: [] }] }), 'uss1: refreshing: vh0 done');
});
